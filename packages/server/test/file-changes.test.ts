/**
 * `file.changed` from every agent: Claude Code and OpenCode edit files with their own tools (no ACP `fs/*`), so
 * their changes are found by the relay's workspace snapshot; the built-in agent writes through
 * `fs/write_text_file` and still gets exactly one event per write. Real agents from npm, real local sandboxes,
 * the test kit's scripted Anthropic server behind the gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { type FakeAnthropic, type RecordedRequest, type Reply, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { SseReader, type TestServer, hasStatus, removeDir, startServer } from "./harness.ts";

const realKey = "sk-ant-real-key-for-file-changes";
let llm: FakeAnthropic;
let server: TestServer;

beforeAll(async () => {
  llm = await startFakeAnthropic({ apiKey: realKey });
  server = await startServer({ ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: realKey });
});
afterAll(async () => {
  await server?.stop();
  await llm?.close();
  if (server) removeDir(server.dataDir);
});

const isMainLoop = (r: RecordedRequest) => Array.isArray(r.body?.tools) && r.body.tools.length > 0;
const toolResultsIn = (r: RecordedRequest) => (JSON.stringify(r.body.messages).match(/"tool_result"/g) ?? []).length;
const isReview = (r: RecordedRequest) => JSON.stringify(r.body?.system ?? "").includes("You review changes");

/**
 * The main loop answers `steps[n]` once n tool results are in the conversation since the prompt that starts
 * with `marker`; side calls (titles, reviews) get a plain answer.
 */
function script(marker: string, steps: Reply[]) {
  llm.respond((r) => {
    if (isReview(r)) return { text: "APPROVED" };
    if (!isMainLoop(r)) return { text: "A title" };
    const messages = r.body.messages as any[];
    const from = messages.findLastIndex((m) => m.role === "user" && JSON.stringify(m.content).includes(marker));
    const done = from < 0 ? 0 : toolResultsIn({ ...r, body: { messages: messages.slice(from) } } as RecordedRequest);
    return steps[Math.min(done, steps.length - 1)];
  });
}

async function session(agent: string, body: Record<string, unknown> = {}) {
  const res = await server.api("POST", "/v1/sessions", { agent, permissionMode: "auto", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`);
  await sse.waitFor(hasStatus("ready"), 60_000, `${agent} ready`);
  return { id: res.body.id as string, sse };
}

/** Sends a prompt and waits for its turn to end, allowing any permission asked on the way. */
async function turn(id: string, sse: SseReader, text: string): Promise<{ turnId: string; events: AirlockEvent[] }> {
  const res = await server.api("POST", `/v1/sessions/${id}/prompt`, { text });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const turnId = res.body.turnId as string;
  const answered = new Set<string>();
  for (;;) {
    const events = await sse.waitFor(
      (evs) => evs.some((e) => (e.type === "turn.ended" && e.turnId === turnId) || (e.type === "interaction.requested" && e.turnId === turnId && !answered.has((e.data as any).interactionId))),
      90_000,
      `turn "${text}"`,
    );
    if (events.some((e) => e.type === "turn.ended" && e.turnId === turnId)) return { turnId, events };
    for (const e of events) {
      const data = e.data as any;
      if (e.type !== "interaction.requested" || e.turnId !== turnId || answered.has(data.interactionId)) continue;
      answered.add(data.interactionId);
      const option = data.options.find((o: any) => o.kind === "allow_once");
      await server.api("POST", `/v1/sessions/${id}/interactions/${data.interactionId}`, { optionId: option.optionId });
    }
  }
}

const changesOf = (events: AirlockEvent[], turnId: string) => events.filter((e) => e.type === "file.changed" && e.turnId === turnId).map((e) => e.data as any);

describe("Claude Code (its own tools, no fs/*)", () => {
  it("a Write, a Bash `echo hi > f` and a Bash `rm` each give a file.changed event in their turn", async () => {
    const { id, sse } = await session("claude");
    script("write-it", [{ toolUse: [{ name: "Write", input: { file_path: "/workspace/hello.txt", content: "hello from claude\n" } }] }, { text: "Written." }]);
    const t1 = await turn(id, sse, "write-it");
    const written = changesOf(t1.events, t1.turnId);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ path: "hello.txt", change: "created" });
    expect(written[0].diff).toContain("+hello from claude");

    script("echo-it", [{ toolUse: [{ name: "Bash", input: { command: "echo hi > f", description: "Write hi to f" } }] }, { text: "Echoed." }]);
    const t2 = await turn(id, sse, "echo-it");
    expect(changesOf(t2.events, t2.turnId)).toEqual([expect.objectContaining({ path: "f", change: "created", diff: expect.stringContaining("+hi") })]);

    script("remove-it", [{ toolUse: [{ name: "Bash", input: { command: "rm f", description: "Remove f" } }] }, { text: "Removed." }]);
    const t3 = await turn(id, sse, "remove-it");
    const removed = changesOf(t3.events, t3.turnId);
    expect(removed).toEqual([expect.objectContaining({ path: "f", change: "deleted" })]);
    expect(removed[0].diff).toContain("-hi");
    sse.close();
  });
});

describe("OpenCode", () => {
  it("an edit gives one file.changed event with its diff", async () => {
    const { id, sse } = await session("opencode", { workspace: { files: { "notes.txt": "alpha\nbeta\ngamma\n" } } });
    script("edit-notes", [
      { toolUse: [{ name: "read", input: { filePath: "/workspace/notes.txt" } }] },
      { toolUse: [{ name: "edit", input: { filePath: "/workspace/notes.txt", oldString: "beta", newString: "BETA" } }] },
      { text: "Edited." },
    ]);
    const t = await turn(id, sse, "edit-notes");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=notes.txt`)).body.content).toBe("alpha\nBETA\ngamma\n");
    const changes = changesOf(t.events, t.turnId);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ path: "notes.txt", change: "modified" });
    expect(changes[0].diff).toContain("-beta\n+BETA");
    sse.close();
  });
});

describe("the built-in agent (fs/write_text_file)", () => {
  it("a write gives exactly one file.changed event", async () => {
    const { id, sse } = await session("airlock");
    script("write-builtin", [{ toolUse: [{ name: "write_file", input: { path: "once.txt", content: "once\n" } }] }, { text: "Done." }]);
    const t = await turn(id, sse, "write-builtin");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=once.txt`)).body.content).toBe("once\n");
    // Every event of the session, not only the turn's: a late compare must not repeat it either.
    await new Promise((r) => setTimeout(r, 500));
    const all = sse.events.filter((e) => e.type === "file.changed").map((e) => e.data as any);
    expect(all).toEqual([expect.objectContaining({ path: "once.txt", change: "created" })]);
    expect(changesOf(t.events, t.turnId)).toHaveLength(1);
    sse.close();
  });
});
