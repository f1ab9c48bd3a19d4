/**
 * Real agent programs from npm (Claude Code through its ACP adapter, OpenCode) in real local sandboxes, driven
 * through Airlock's HTTP/SSE API, with the LLM gateway's upstream pointed at the test kit's scripted Anthropic
 * server: offline, end to end. One server for the file; sessions are shared where it keeps tests clear.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { type FakeAnthropic, type RecordedRequest, type Reply, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { SseReader, type TestServer, agentEnvironment, hasStatus, pidsMatching, removeDir, startServer, textOf, turnEnded } from "./harness.ts";

const realKey = "sk-ant-real-key-that-must-never-enter-a-sandbox";
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

/** Main-loop calls carry tools; side calls (titles, summaries) get a plain answer. */
const isMainLoop = (r: RecordedRequest) => Array.isArray(r.body?.tools) && r.body.tools.length > 0;
const afterToolResult = (r: RecordedRequest) => JSON.stringify(r.body.messages.at(-1)).includes("tool_result");
/** The main loop answers `first`, then `then` once a tool result comes back; side calls get a title. */
const script = (first: Reply | ((r: RecordedRequest) => Reply), then: Reply = { text: "Done." }) =>
  llm.respond((r) => (!isMainLoop(r) ? { text: "A title" } : afterToolResult(r) ? then : typeof first === "function" ? first(r) : first));

async function session(agent: string, body: Record<string, unknown> = {}) {
  const res = await server.api("POST", "/v1/sessions", { agent, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`);
  await sse.waitFor(hasStatus("ready"), 60_000, `${agent} ready`);
  return { id: res.body.id as string, sse };
}

async function prompt(id: string, text: string): Promise<string> {
  const res = await server.api("POST", `/v1/sessions/${id}/prompt`, { text });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.turnId;
}

/** Waits for the nth permission request of the session and answers it with the option of that kind. */
async function answerPermission(id: string, sse: SseReader, nth: number, kind: "allow_once" | "reject_once") {
  const events = await sse.waitFor((evs) => evs.filter((e) => e.type === "interaction.requested").length >= nth, 60_000, `permission request #${nth}`);
  const request = events.filter((e) => e.type === "interaction.requested")[nth - 1].data as any;
  const option = request.options.find((o: any) => o.kind === kind);
  expect((await server.api("POST", `/v1/sessions/${id}/interactions/${request.interactionId}`, { optionId: option.optionId })).status).toBe(200);
  return request;
}

async function expectTotalsMatchEvents(id: string, sse: SseReader) {
  const sum = () =>
    sse.events.filter((e) => e.type === "usage").reduce((t, e) => ({ input: t.input + (e.data as any).inputTokens, cost: t.cost + (e.data as any).costUsd }), { input: 0, cost: 0 });
  const until = Date.now() + 5000;
  for (;;) {
    const view = (await server.api("GET", `/v1/sessions/${id}`)).body;
    const events = sum();
    if (view.usage.inputTokens === events.input || Date.now() > until) {
      expect(view.usage.inputTokens).toBe(events.input);
      expect(view.usage.costUsd).toBeCloseTo(events.cost, 10);
      expect(view.usage.costUsd).toBeGreaterThan(0);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const updates = (events: AirlockEvent[], turnId: string, kinds: string[]) =>
  events.filter((e) => e.type === "update" && e.turnId === turnId && kinds.includes((e.data as any).sessionUpdate)).map((e) => e.data as any);
const stopReason = (events: AirlockEvent[], turnId: string) => (events.find((e) => e.type === "turn.ended" && e.turnId === turnId)!.data as any).stopReason;

describe("Claude Code through the gateway", () => {
  it("streams thinking and text, counts usage and cost per turn, and keeps context across turns", async () => {
    const { id, sse } = await session("claude");
    script({ thinking: "The user wants a greeting.", text: "Hello from the scripted model.", usage: { input: 1200, output: 40 } });
    const t1 = await prompt(id, "Say hello");
    const events = await sse.waitFor(turnEnded(t1), 60_000, "first turn");
    expect(textOf(events, t1)).toContain("Hello from the scripted model.");
    expect(updates(events, t1, ["agent_thought_chunk"]).map((u) => u.content.text).join("")).toBe("The user wants a greeting.");
    const usage = events.filter((e) => e.type === "usage" && e.turnId === t1).map((e) => e.data as any);
    expect(usage.some((u) => u.inputTokens === 1200 && u.outputTokens === 40)).toBe(true);
    // The session's totals are the sum of its usage events (side calls such as titles included).
    await expectTotalsMatchEvents(id, sse);

    const before = llm.requests.length;
    const t2 = await prompt(id, "And again");
    await sse.waitFor(turnEnded(t2), 60_000, "second turn");
    const second = llm.requests.slice(before).find(isMainLoop)!;
    expect(JSON.stringify(second.body.messages)).toContain("Say hello");
    expect(JSON.stringify(second.body.messages)).toContain("Hello from the scripted model.");
    // The upstream saw the real key (the fake refuses any other), which the agent never had.
    expect(second.headers["x-api-key"]).toBe(realKey);
    sse.close();
  });

  it("writes a file after a permission request the user approves, with the tool call and its diff; a rejected one writes nothing", async () => {
    const { id, sse } = await session("claude", { workspace: { files: { "notes.txt": "one\ntwo\n" } } });
    let step = 0;
    script(() => {
      step++;
      return step === 1
        ? { toolUse: [{ name: "Write", input: { file_path: "/workspace/hello1.txt", content: "hello 1\n" } }] }
        : { toolUse: [{ name: "Edit", input: { file_path: "/workspace/notes.txt", old_string: "two", new_string: "TWO" } }] };
    });
    const t1 = await prompt(id, "Write hello1.txt");
    const request = await answerPermission(id, sse, 1, "allow_once");
    expect(request.toolCall.kind).toBe("edit");
    const events = await sse.waitFor(turnEnded(t1), 60_000, "turn after approval");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=hello1.txt`)).body.content).toBe("hello 1\n");
    const calls = updates(events, t1, ["tool_call", "tool_call_update"]);
    expect(calls.some((u) => u.sessionUpdate === "tool_call")).toBe(true);
    expect(calls.some((u) => u.status === "completed")).toBe(true);
    const diffs = calls.flatMap((u) => u.content ?? []).filter((c: any) => c.type === "diff");
    expect(diffs.some((d: any) => d.path === "/workspace/hello1.txt" && d.newText.includes("hello 1"))).toBe(true);

    const t2 = await prompt(id, "Change two to TWO in notes.txt");
    const rejected = await answerPermission(id, sse, 2, "reject_once");
    expect(JSON.stringify(rejected.toolCall.content)).toContain("TWO");
    const after = await sse.waitFor(turnEnded(t2), 60_000, "turn after rejection");
    expect(stopReason(after, t2)).toBe("end_turn");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=notes.txt`)).body.content).toBe("one\ntwo\n");
    expect(after.some((e) => e.type === "interaction.resolved" && e.turnId === t2 && (e.data as any).optionId === rejected.options.find((o: any) => o.kind === "reject_once").optionId)).toBe(true);
    sse.close();
  });

  it("writes without asking in `auto` mode and calls the model the session names", async () => {
    const { id, sse } = await session("claude", { permissionMode: "auto", model: "claude-haiku-4-5" });
    script({ toolUse: [{ name: "Write", input: { file_path: "/workspace/auto.txt", content: "no questions\n" } }] }, { text: "Written.", usage: { input: 1_000_000, output: 0 } });
    const t = await prompt(id, "write auto.txt");
    const events = await sse.waitFor(turnEnded(t), 60_000, "auto turn");
    expect(events.some((e) => e.type === "interaction.requested")).toBe(false);
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=auto.txt`)).body.content).toBe("no questions\n");
    const main = llm.requests.filter((r) => isMainLoop(r) && JSON.stringify(r.body).includes("write auto.txt"));
    expect(main.length).toBeGreaterThan(0);
    expect(main.every((r) => r.body.model === "claude-haiku-4-5")).toBe(true);
    // A million input tokens of Haiku 4.5 cost $1.
    const usage = events.filter((e) => e.type === "usage").map((e) => e.data as any);
    expect(usage.find((u) => u.inputTokens === 1_000_000)?.costUsd).toBeCloseTo(1, 6);
    sse.close();
  });

  it("shows an upstream error as a session error and ends the turn; a spent budget refuses the next call until raised", async () => {
    const { id, sse } = await session("claude", { budgetUsd: 0.5 });
    script({ error: { status: 400, type: "invalid_request_error", message: "scripted upstream failure" } });
    const t1 = await prompt(id, "fail please");
    const events = await sse.waitFor(turnEnded(t1), 60_000, "failed turn");
    const errors = events.filter((e) => e.type === "error" && e.turnId === t1).map((e) => e.data as any);
    expect(errors).toContainEqual({ code: "upstream_error", message: "the LLM upstream answered 400: scripted upstream failure" });

    script({ text: "Expensive answer.", usage: { input: 100_000, output: 10_000 } });
    const t2 = await prompt(id, "spend it");
    await sse.waitFor(turnEnded(t2), 60_000, "spending turn");
    expect((await server.api("GET", `/v1/sessions/${id}`)).body.usage.costUsd).toBeGreaterThan(0.5);
    const calls = llm.requests.length;
    const t3 = await prompt(id, "one more");
    const refused = await sse.waitFor(turnEnded(t3), 60_000, "refused turn");
    const budgetError = refused.find((e) => e.type === "error" && e.turnId === t3)!.data as any;
    expect(budgetError.code).toBe("budget_exceeded");
    expect(budgetError.message).toMatch(/budget of \$0.5 is spent/);
    expect(textOf(refused, t3)).toMatch(/budget/);
    expect(llm.requests.slice(calls).filter(isMainLoop)).toEqual([]);

    const patched = await server.api("PATCH", `/v1/sessions/${id}`, { budgetUsd: 100 });
    expect(patched.status).toBe(200);
    expect(patched.body.budgetUsd).toBe(100);
    script({ text: "Going on." });
    const t4 = await prompt(id, "go on");
    const after = await sse.waitFor(turnEnded(t4), 60_000, "turn after raising the budget");
    expect(textOf(after, t4)).toContain("Going on.");
    sse.close();
  });
});

describe("Claude Code: commands, cancel and resume", () => {
  it("streams a Bash command's output; inside, it runs as uid 1000 and its environment holds the session's gateway token, not the real key", async () => {
    const { id, sse } = await session("claude");
    script({ toolUse: [{ name: "Bash", input: { command: "echo streamed-output-42; echo uid-$(id -u); env", description: "Print a marker, the user id and the environment" } }] }, { text: "Ran it." });
    const t = await prompt(id, "run the marker");
    const asked = await sse.waitFor((evs) => evs.some((e) => e.type === "interaction.requested" || (e.type === "turn.ended" && e.turnId === t)), 60_000, "Bash turn or its permission");
    if (asked.some((e) => e.type === "interaction.requested")) await answerPermission(id, sse, 1, "allow_once");
    const events = await sse.waitFor(turnEnded(t), 60_000, "Bash turn");
    const output = JSON.stringify(updates(events, t, ["tool_call_update"]));
    expect(output).toContain("streamed-output-42");
    // Not root inside: Claude Code's permission modes work without IS_SANDBOX tricks.
    expect(output).toContain("uid-1000");
    expect(output).toMatch(/ANTHROPIC_API_KEY=gw_ses_/);
    expect(output).toContain("ANTHROPIC_BASE_URL=http://127.0.0.1:4599/gateway/anthropic");
    expect(output).not.toContain(realKey);
    sse.close();
  });

  it("cancels during a slow LLM stream, counts what was streamed, then the next prompt works", async () => {
    const { id, sse } = await session("claude");
    script({ text: "word ".repeat(200), pieces: 200, delayMs: 50, usage: { input: 4321, output: 999 } });
    const t1 = await prompt(id, "talk slowly");
    await sse.waitFor((evs) => updates(evs, t1, ["agent_message_chunk"]).length >= 3, 60_000, "some streamed words");
    expect((await server.api("POST", `/v1/sessions/${id}/cancel`)).status).toBe(202);
    const events = await sse.waitFor(turnEnded(t1), 30_000, "cancelled turn");
    expect(stopReason(events, t1)).toBe("cancelled");
    await sse.waitFor((evs) => evs.some((e) => e.type === "usage" && (e.data as any).inputTokens === 4321), 10_000, "usage of the cut stream");
    script({ text: "Back again." });
    const t2 = await prompt(id, "are you there");
    const after = await sse.waitFor(turnEnded(t2), 60_000, "next turn");
    expect(stopReason(after, t2)).toBe("end_turn");
    expect(textOf(after, t2)).toContain("Back again.");
    sse.close();
  });

  it("comes back after an idle stop with its history (session/load)", async () => {
    const { id, sse } = await session("claude", { idleTimeoutSec: 1 });
    script({ text: "The secret word is pelican." });
    const t1 = await prompt(id, "Remember a word");
    await sse.waitFor(turnEnded(t1), 60_000, "first turn");
    await sse.waitFor(hasStatus("stopped"), 20_000, "idle stop");
    const before = llm.requests.length;
    const t2 = await prompt(id, "What was the word?");
    const events = await sse.waitFor(turnEnded(t2), 90_000, "turn after resume");
    expect(events.some((e) => e.type === "error" && (e.data as any).code === "context_lost")).toBe(false);
    const main = llm.requests.slice(before).filter(isMainLoop).at(-1)!;
    expect(JSON.stringify(main.body.messages)).toContain("pelican");
    sse.close();
  });
});

describe("OpenCode through the gateway", () => {
  it("writes a file with `ask` permissions after the user approves, with the tool call and its diff", async () => {
    const { id, sse } = await session("opencode");
    script({ toolUse: [{ name: "write", input: { filePath: "/workspace/oc.txt", content: "from opencode\n" } }] }, { text: "Wrote it." });
    const t1 = await prompt(id, "write oc.txt");
    const request = await answerPermission(id, sse, 1, "allow_once");
    expect(JSON.stringify(request.toolCall)).toContain("from opencode");
    const events = await sse.waitFor(turnEnded(t1), 90_000, "turn end");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=oc.txt`)).body.content).toBe("from opencode\n");
    expect(textOf(events, t1)).toContain("Wrote it.");
    const changed = events.find((e) => e.type === "file.changed" && (e.data as any).path === "oc.txt")?.data as any;
    expect(changed?.diff).toContain("+from opencode");
    expect(updates(events, t1, ["tool_call", "tool_call_update"]).some((u) => u.status === "completed")).toBe(true);
    // OpenCode's model calls went through the gateway and were counted.
    expect((await server.api("GET", `/v1/sessions/${id}`)).body.usage.costUsd).toBeGreaterThan(0);
    sse.close();
  });
});

describe("OpenCode: resume", () => {
  it("comes back after an idle stop with its history (session/load from its private home)", async () => {
    const { id, sse } = await session("opencode", { idleTimeoutSec: 1 });
    script({ text: "The secret word is heron." });
    const t1 = await prompt(id, "Remember a word");
    await sse.waitFor(turnEnded(t1), 90_000, "first turn");
    await sse.waitFor(hasStatus("stopped"), 20_000, "idle stop");
    const before = llm.requests.length;
    script({ text: "It was heron." });
    const t2 = await prompt(id, "What was the word?");
    const events = await sse.waitFor(turnEnded(t2), 90_000, "turn after resume");
    expect(textOf(events, t2)).toContain("It was heron.");
    expect(events.some((e) => e.type === "error" && (e.data as any).code === "context_lost")).toBe(false);
    const main = llm.requests.slice(before).filter(isMainLoop).at(-1)!;
    expect(JSON.stringify(main.body.messages)).toContain("The secret word is heron.");
    sse.close();
  });
});

describe("the gateway's tokens and the real key", () => {
  it("refuses a token of another session and a made-up one; a deleted session's token dies with it", async () => {
    const a = await session("claude");
    const b = await session("claude");
    // The token as the agent holds it (the relay's config file keeps no environment once the agent runs).
    const tokenOfA = agentEnvironment(server.dataDir, a.id).ANTHROPIC_API_KEY as string;
    expect(tokenOfA).toMatch(/^gw_/);
    const call = (token: string) =>
      fetch(`${server.url}/gateway/anthropic/v1/messages`, { method: "POST", headers: { "x-api-key": token, "content-type": "application/json" }, body: JSON.stringify({ model: "claude-x", max_tokens: 5, messages: [] }) });
    expect((await call(tokenOfA)).status).toBe(200);
    const forged = await call(tokenOfA.replace(a.id, b.id));
    expect(forged.status).toBe(401);
    expect((await forged.json()).error.type).toBe("authentication_error");
    expect((await call("gw_nonsense")).status).toBe(401);
    expect((await call(realKey)).status).toBe(401);
    await server.api("DELETE", `/v1/sessions/${a.id}`);
    await a.sse.waitFor(hasStatus("stopped"), 20_000, "deleted");
    expect((await call(tokenOfA)).status).toBe(401);
    a.sse.close();
    b.sse.close();
  });

  it("never puts the real key in a sandbox: not in the agents' environment, not in any file they could read or write", () => {
    const agents = pidsMatching("claude-agent-acp").concat(pidsMatching("opencode"));
    expect(agents.length).toBeGreaterThan(0);
    for (const pid of agents) {
      let environ = "";
      try {
        environ = readFileSync(`/proc/${pid}/environ`, "utf8");
      } catch {
        continue; // exited meanwhile
      }
      expect(environ.includes(realKey), `environment of pid ${pid}`).toBe(false);
    }
    // Every session of this file, journals and the agents' homes (their own session files) included.
    const files = [...walk(join(server.dataDir, "sandboxes")), ...walk(join(server.dataDir, "gateway"))];
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) {
      let content: Buffer;
      try {
        content = readFileSync(f);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // removed meanwhile (a deleted session's sandbox being cleaned up)
        throw err;
      }
      expect(content.includes(realKey), f).toBe(false);
    }
  });
});

function walk(dir: string): string[] {
  const out: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s) continue;
    if (s.isDirectory()) out.push(...walk(p));
    else if (s.isFile() && s.size < 20_000_000) out.push(p);
  }
  return out;
}
