/**
 * Gemini CLI (the real program from npm, `--experimental-acp`) in a real local sandbox, driven through
 * Airlock's HTTP/SSE API, calling the LLM through the gateway's Gemini API (its `GOOGLE_GEMINI_BASE_URL`
 * gateway mode), whose upstream is the test kit's scripted Gemini server: offline, end to end, with no Google
 * key in the sandbox.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { type FakeGemini, type GeminiReply, type RecordedGeminiRequest, startFakeGemini } from "@airlock/testkit/fake-gemini";
import { SseReader, type TestServer, hasStatus, removeDir, startServer, textOf, turnEnded } from "./harness.ts";

const realKey = "AIza-real-key-that-must-never-enter-a-sandbox";
let llm: FakeGemini;
let server: TestServer;

beforeAll(async () => {
  llm = await startFakeGemini({ apiKey: realKey });
  server = await startServer({ GOOGLE_GEMINI_BASE_URL: llm.url, GEMINI_API_KEY: realKey });
});
afterAll(async () => {
  await server?.stop();
  await llm?.close();
  if (server) removeDir(server.dataDir);
});

/** Gemini CLI first asks a small model to rate the task (JSON); the main loop has tools. */
const isRouter = (r: RecordedGeminiRequest) => r.body?.generationConfig?.responseMimeType === "application/json";
const isMainLoop = (r: RecordedGeminiRequest) => r.action === "streamGenerateContent" && Array.isArray(r.body?.tools);
const afterToolResult = (r: RecordedGeminiRequest) => JSON.stringify(r.body.contents.at(-1)).includes("functionResponse");
const script = (first: GeminiReply | (() => GeminiReply), then: GeminiReply = { text: "Done." }) =>
  llm.respond((r) =>
    isRouter(r)
      ? { text: JSON.stringify({ complexity_reasoning: "a small task", complexity_score: 10 }) }
      : !isMainLoop(r)
        ? { text: "OK." }
        : afterToolResult(r)
          ? then
          : typeof first === "function"
            ? first()
            : first,
  );

async function session(body: Record<string, unknown> = {}) {
  const res = await server.api("POST", "/v1/sessions", { agent: "gemini", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`);
  await sse.waitFor(hasStatus("ready"), 60_000, "gemini ready");
  return { id: res.body.id as string, sse };
}

async function prompt(id: string, text: string): Promise<string> {
  const res = await server.api("POST", `/v1/sessions/${id}/prompt`, { text });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.turnId;
}

const thoughts = (events: AirlockEvent[], turnId: string) =>
  events.filter((e) => e.type === "update" && e.turnId === turnId && (e.data as any).sessionUpdate === "agent_thought_chunk").map((e) => (e.data as any).content.text).join("");

describe("Gemini CLI through the gateway's Gemini API", () => {
  it("streams thoughts and text, counts usage and cost (cached input apart), keeps context, and shows an upstream error", async () => {
    const { id, sse } = await session();
    script({ thought: "**Greeting**\nConsidering the greeting.", text: "Hello from the scripted model.", usage: { input: 1000, output: 20, cached: 400 } });
    const t1 = await prompt(id, "Say hello");
    const events = await sse.waitFor(turnEnded(t1), 60_000, "first turn");
    expect(textOf(events, t1)).toContain("Hello from the scripted model.");
    expect(thoughts(events, t1)).toContain("Considering the greeting.");
    const main = events.filter((e) => e.type === "usage" && e.turnId === t1).map((e) => e.data as any).find((u) => u.inputTokens === 1000)!;
    // Priced as the Gemini family: 600 fresh input, 400 cached at a tenth, 20 output.
    expect(main.costUsd).toBeCloseTo((600 * 1.25 + 400 * 0.125 + 20 * 10) / 1e6, 10);
    // The upstream saw the real key (the fake refuses any other), which Gemini CLI never had.
    expect(llm.requests.at(-1)!.headers["x-goog-api-key"]).toBe(realKey);

    const before = llm.requests.length;
    script({ text: "Again." });
    const t2 = await prompt(id, "And again");
    await sse.waitFor(turnEnded(t2), 60_000, "second turn");
    const second = llm.requests.slice(before).find(isMainLoop)!;
    expect(JSON.stringify(second.body.contents)).toContain("Say hello");
    expect(JSON.stringify(second.body.contents)).toContain("Hello from the scripted model.");

    script({ error: { status: 400, message: "scripted upstream failure" } });
    const t3 = await prompt(id, "fail please");
    const failed = await sse.waitFor(turnEnded(t3), 60_000, "failed turn");
    expect(failed.filter((e) => e.type === "error" && e.turnId === t3).map((e) => e.data)).toContainEqual({ code: "upstream_error", message: "the LLM upstream answered 400: scripted upstream failure" });
    sse.close();
  });

  it("writes a file after the user approves, with the diff; a rejected write leaves nothing", async () => {
    const { id, sse } = await session();
    let step = 0;
    script(() => {
      step++;
      const file = step === 1 ? "gemini.txt" : "rejected.txt";
      return { functionCalls: [{ name: "write_file", args: { file_path: `/workspace/${file}`, content: `from gemini ${step}\n` } }] };
    });
    const t1 = await prompt(id, "write gemini.txt");
    const asked = await sse.waitFor((evs) => evs.some((e) => e.type === "interaction.requested"), 60_000, "permission request");
    const request = asked.find((e) => e.type === "interaction.requested")!.data as any;
    expect(request.toolCall.content).toContainEqual(expect.objectContaining({ type: "diff", path: "/workspace/gemini.txt", newText: "from gemini 1\n" }));
    const allow = request.options.find((o: any) => o.kind === "allow_once");
    expect((await server.api("POST", `/v1/sessions/${id}/interactions/${request.interactionId}`, { optionId: allow.optionId })).status).toBe(200);
    const events = await sse.waitFor(turnEnded(t1), 60_000, "turn after approval");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=gemini.txt`)).body.content).toBe("from gemini 1\n");
    // Gemini writes the file itself or through fs/write_text_file: either way one file.changed.
    const changed = events.filter((e) => e.type === "file.changed" && e.turnId === t1).map((e) => e.data as any);
    expect(changed).toEqual([expect.objectContaining({ path: "gemini.txt", change: "created", diff: expect.stringContaining("+from gemini 1") })]);

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

  it("never puts the real Google key in the sandbox: the environment holds the session's gateway token", () => {
    const sandboxes = join(server.dataDir, "sandboxes");
    for (const id of readdirSync(sandboxes)) {
      const env = JSON.parse(readFileSync(join(sandboxes, id, "relay", "config.json"), "utf8")).agent.env;
      expect(env.GEMINI_API_KEY.startsWith(`gw_${id}_`), env.GEMINI_API_KEY).toBe(true);
      expect(env.GOOGLE_GEMINI_BASE_URL).toBe("http://127.0.0.1:4599/gateway/gemini");
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
