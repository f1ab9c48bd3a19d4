/**
 * Codex (the real program from npm, through codex-acp) in a real local sandbox, driven through Airlock's
 * HTTP/SSE API, calling the LLM through the gateway's OpenAI (Responses) API, whose upstream is the test
 * kit's scripted OpenAI server: offline, end to end, with no OpenAI key in the sandbox.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { type FakeOpenAI, startFakeOpenAI } from "@airlock/testkit/fake-openai";
import { SseReader, type TestServer, hasStatus, pidsMatching, removeDir, startServer, textOf, turnEnded } from "./harness.ts";

const realKey = "sk-openai-real-key-that-must-never-enter-a-sandbox";
let llm: FakeOpenAI;
let server: TestServer;

beforeAll(async () => {
  llm = await startFakeOpenAI({ apiKey: realKey });
  server = await startServer({ OPENAI_BASE_URL: llm.url, OPENAI_API_KEY: realKey });
});
afterAll(async () => {
  await server?.stop();
  await llm?.close();
  if (server) removeDir(server.dataDir);
});

async function session(body: Record<string, unknown> = {}) {
  const res = await server.api("POST", "/v1/sessions", { agent: "codex", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`);
  await sse.waitFor(hasStatus("ready"), 60_000, "codex ready");
  return { id: res.body.id as string, sse };
}

async function prompt(id: string, text: string): Promise<string> {
  const res = await server.api("POST", `/v1/sessions/${id}/prompt`, { text });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.turnId;
}

const lastInput = (body: any) => JSON.stringify(body.input.at(-1));
const thoughts = (events: AirlockEvent[], turnId: string) =>
  events.filter((e) => e.type === "update" && e.turnId === turnId && (e.data as any).sessionUpdate === "agent_thought_chunk").map((e) => (e.data as any).content.text).join("");

describe("Codex through the gateway's OpenAI API", () => {
  it("streams reasoning and text, counts usage and cost (cached input apart), keeps context, and shows an upstream error", async () => {
    const { id, sse } = await session();
    llm.reply({ reasoning: "Considering the greeting.", text: "Hello from the scripted model.", usage: { input: 1000, output: 20, cached: 400 } });
    const t1 = await prompt(id, "Say hello");
    const events = await sse.waitFor(turnEnded(t1), 60_000, "first turn");
    expect(textOf(events, t1)).toContain("Hello from the scripted model.");
    expect(thoughts(events, t1)).toContain("Considering the greeting.");
    const usage = events.find((e) => e.type === "usage" && e.turnId === t1)!.data as any;
    expect(usage).toMatchObject({ inputTokens: 1000, outputTokens: 20 });
    // Priced as the GPT-5 family: 600 fresh input, 400 cached at a tenth, 20 output.
    expect(usage.costUsd).toBeCloseTo((600 * 1.25 + 400 * 0.125 + 20 * 10) / 1e6, 10);
    expect((await server.api("GET", `/v1/sessions/${id}`)).body.usage).toMatchObject({ inputTokens: 1000, outputTokens: 20 });
    // The upstream saw the real key (the fake refuses any other), which Codex never had.
    expect(llm.requests.at(-1)!.headers.authorization).toBe(`Bearer ${realKey}`);

    const before = llm.requests.length;
    llm.reply({ text: "Again." });
    const t2 = await prompt(id, "And again");
    await sse.waitFor(turnEnded(t2), 60_000, "second turn");
    const second = llm.requests.slice(before).find((r) => r.path === "/v1/responses")!;
    expect(JSON.stringify(second.body.input)).toContain("Say hello");
    expect(JSON.stringify(second.body.input)).toContain("Hello from the scripted model.");

    llm.reply({ error: { status: 400, type: "invalid_request_error", message: "scripted upstream failure" } });
    const t3 = await prompt(id, "fail please");
    const failed = await sse.waitFor(turnEnded(t3), 60_000, "failed turn");
    expect(failed.filter((e) => e.type === "error" && e.turnId === t3).map((e) => e.data)).toContainEqual({ code: "upstream_error", message: "the LLM upstream answered 400: scripted upstream failure" });
    sse.close();
  });

  it("writes a file with apply_patch after the user approves, with the diff; a rejected patch writes nothing", async () => {
    const { id, sse } = await session();
    const patch = (file: string, line: string) => `*** Begin Patch\n*** Add File: ${file}\n+${line}\n*** End Patch\n`;
    let step = 0;
    llm.respond((r) => {
      if (lastInput(r.body).includes("custom_tool_call_output")) return { text: "Done." };
      step++;
      return { customToolCalls: [{ name: "apply_patch", input: step === 1 ? patch("codex.txt", "from codex") : patch("rejected.txt", "never") }] };
    });
    const t1 = await prompt(id, "write codex.txt");
    const asked = await sse.waitFor((evs) => evs.some((e) => e.type === "interaction.requested"), 60_000, "permission request");
    const request = asked.find((e) => e.type === "interaction.requested")!.data as any;
    expect(request.toolCall.content).toContainEqual({ type: "diff", path: "/workspace/codex.txt", newText: "from codex\n" });
    const allow = request.options.find((o: any) => o.kind === "allow_once");
    expect((await server.api("POST", `/v1/sessions/${id}/interactions/${request.interactionId}`, { optionId: allow.optionId })).status).toBe(200);
    const events = await sse.waitFor(turnEnded(t1), 60_000, "turn after approval");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=codex.txt`)).body.content).toBe("from codex\n");
    expect(events.some((e) => e.type === "update" && e.turnId === t1 && (e.data as any).sessionUpdate === "tool_call_update" && (e.data as any).status === "completed")).toBe(true);
    // Codex writes the file itself (no ACP fs/*): the relay's workspace compare reports it, once.
    const changed = events.filter((e) => e.type === "file.changed" && e.turnId === t1).map((e) => e.data as any);
    expect(changed).toEqual([expect.objectContaining({ path: "codex.txt", change: "created", diff: expect.stringContaining("+from codex") })]);

    const t2 = await prompt(id, "write rejected.txt");
    const asked2 = await sse.waitFor((evs) => evs.filter((e) => e.type === "interaction.requested").length >= 2, 60_000, "second permission request");
    const request2 = asked2.filter((e) => e.type === "interaction.requested")[1].data as any;
    const reject = request2.options.find((o: any) => o.kind === "reject_once");
    expect((await server.api("POST", `/v1/sessions/${id}/interactions/${request2.interactionId}`, { optionId: reject.optionId })).status).toBe(200);
    const after = await sse.waitFor(turnEnded(t2), 60_000, "turn after rejection");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=rejected.txt`)).status).toBe(404);
    expect(after.some((e) => e.type === "file.changed" && e.turnId === t2)).toBe(false);
    sse.close();
  });

  it("never puts the real OpenAI key in the sandbox: the config and environment hold the session's gateway token", () => {
    const sandboxes = join(server.dataDir, "sandboxes");
    const [first] = readdirSync(sandboxes);
    const config = JSON.parse(readFileSync(join(sandboxes, first, "relay", "config.json"), "utf8"));
    expect(config.agent.env.AIRLOCK_GATEWAY_TOKEN).toMatch(/^gw_ses_/);
    expect(readFileSync(join(sandboxes, first, "home", ".codex", "config.toml"), "utf8")).toContain('base_url = "http://127.0.0.1:4599/gateway/openai/v1"');
    for (const pid of pidsMatching("codex-acp")) {
      try {
        expect(readFileSync(`/proc/${pid}/environ`, "utf8").includes(realKey), `environment of pid ${pid}`).toBe(false);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    const files = walk(sandboxes);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(readFileSync(f).includes(realKey), f).toBe(false);
  });
});

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s) continue;
    if (s.isDirectory()) out.push(...walk(p));
    else if (s.isFile() && s.size < 20_000_000) out.push(p);
  }
  return out;
}
