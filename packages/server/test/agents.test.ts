/**
 * Real agent programs from npm (Claude Code through its ACP adapter, OpenCode) in real sandboxes, with the
 * LLM gateway's upstream pointed at the test kit's scripted Anthropic server: offline, end to end.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { SseReader, type TestServer, hasStatus, removeDir, startServer, turnEnded } from "./harness.ts";

const realKey = "sk-ant-real-key-that-must-never-enter-a-sandbox";
let llm: FakeAnthropic;
let server: TestServer;

beforeAll(async () => {
  llm = await startFakeAnthropic();
  server = await startServer({ ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: realKey });
});
afterAll(async () => {
  await server?.stop();
  await llm?.close();
  if (server) removeDir(server.dataDir);
});

/** Main-loop calls carry tools; side calls (titles, summaries) get a plain answer. */
const isMainLoop = (body: any) => Array.isArray(body.tools) && body.tools.length > 0;

async function session(agent: string, body: Record<string, unknown> = {}) {
  const res = await server.api("POST", "/v1/sessions", { agent, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`);
  await sse.waitFor(hasStatus("ready"), 60_000, `${agent} ready`);
  return { id: res.body.id as string, sse };
}

describe("Claude Code through the gateway", () => {
  it("streams a reply, counts usage and cost, and keeps context across turns", async () => {
    const { id, sse } = await session("claude");
    llm.respond((req) => (isMainLoop(req.body) ? { text: "Hello from the scripted model.", usage: { input: 1200, output: 40 } } : { text: "Title" }));
    const t1 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "Say hello" })).body.turnId;
    const events = await sse.waitFor(turnEnded(t1), 60_000, "first turn");
    const text = events.filter((e) => e.turnId === t1 && e.type === "update" && (e.data as any).sessionUpdate === "agent_message_chunk").map((e) => (e.data as any).content.text).join("");
    expect(text).toContain("Hello from the scripted model.");
    const usage = events.filter((e) => e.type === "usage" && e.turnId === t1);
    expect(usage.length).toBeGreaterThan(0);
    const view = await server.api("GET", `/v1/sessions/${id}`);
    expect(view.body.usage.inputTokens).toBeGreaterThanOrEqual(1200);
    expect(view.body.usage.costUsd).toBeGreaterThan(0);

    const before = llm.requests.length;
    const t2 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "And again" })).body.turnId;
    await sse.waitFor(turnEnded(t2), 60_000, "second turn");
    const second = llm.requests.slice(before).find((r) => isMainLoop(r.body))!;
    expect(JSON.stringify(second.body.messages)).toContain("Say hello");
    expect(JSON.stringify(second.body.messages)).toContain("Hello from the scripted model.");
    // the agent called the gateway with its session token, never with the real key
    expect(second.headers["x-api-key"]).toBe(realKey);
    sse.close();
  });

  it("writes a file after a permission request the user approves; a rejected one writes nothing", async () => {
    const { id, sse } = await session("claude");
    let step = 0;
    llm.respond((req) => {
      if (!isMainLoop(req.body)) return { text: "Title" };
      const last = JSON.stringify(req.body.messages.at(-1));
      if (last.includes("tool_result")) return { text: "Done." };
      step++;
      return { toolUse: [{ name: "Write", input: { file_path: `/workspace/hello${step}.txt`, content: `hello ${step}\n` } }] };
    });
    const t1 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "Write hello1.txt" })).body.turnId;
    const asked = await sse.waitFor((evs) => evs.some((e) => e.type === "interaction.requested"), 60_000, "permission request");
    const req = asked.find((e) => e.type === "interaction.requested")!.data as any;
    const allow = req.options.find((o: any) => o.kind === "allow_once");
    expect((await server.api("POST", `/v1/sessions/${id}/interactions/${req.interactionId}`, { optionId: allow.optionId })).status).toBe(200);
    const events = await sse.waitFor(turnEnded(t1), 60_000, "turn after approval");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=hello1.txt`)).body.content).toBe("hello 1\n");
    const toolCalls = events.filter((e) => e.type === "update" && ["tool_call", "tool_call_update"].includes((e.data as any).sessionUpdate));
    expect(toolCalls.length).toBeGreaterThan(0);
    expect(JSON.stringify(toolCalls.map((e) => e.data))).toContain("hello 1");

    const t2 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "Write hello2.txt" })).body.turnId;
    const asked2 = await sse.waitFor((evs) => evs.filter((e) => e.type === "interaction.requested").length >= 2, 60_000, "second permission request");
    const req2 = asked2.filter((e) => e.type === "interaction.requested")[1].data as any;
    const reject = req2.options.find((o: any) => o.kind === "reject_once");
    expect((await server.api("POST", `/v1/sessions/${id}/interactions/${req2.interactionId}`, { optionId: reject.optionId })).status).toBe(200);
    await sse.waitFor(turnEnded(t2), 60_000, "turn after rejection");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=hello2.txt`)).status).toBe(404);
    sse.close();
  });

  it("shows an upstream error as a session error and ends the turn, and a spent budget refuses the next call until raised", async () => {
    const { id, sse } = await session("claude", { budgetUsd: 0.5 });
    llm.respond((req) => (isMainLoop(req.body) ? { error: { status: 400, type: "invalid_request_error", message: "scripted upstream failure" } } : { text: "Title" }));
    const t1 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "fail please" })).body.turnId;
    const events = await sse.waitFor(turnEnded(t1), 60_000, "failed turn");
    expect(events.some((e) => e.type === "error" && /scripted upstream failure/.test((e.data as any).message))).toBe(true);

    llm.respond((req) => (isMainLoop(req.body) ? { text: "Expensive answer.", usage: { input: 100_000, output: 10_000 } } : { text: "Title" }));
    const t2 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "spend it" })).body.turnId;
    await sse.waitFor(turnEnded(t2), 60_000, "spending turn");
    const t3 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "one more" })).body.turnId;
    const refused = await sse.waitFor(turnEnded(t3), 60_000, "refused turn");
    expect(refused.some((e) => e.type === "error" && (e.data as any).code === "budget_exceeded")).toBe(true);

    expect((await server.api("PATCH", `/v1/sessions/${id}`, { budgetUsd: 100 })).status).toBe(200);
    const t4 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "go on" })).body.turnId;
    const after = await sse.waitFor(turnEnded(t4), 60_000, "turn after raising the budget");
    const t4text = after.filter((e) => e.turnId === t4 && e.type === "update" && (e.data as any).sessionUpdate === "agent_message_chunk").map((e) => (e.data as any).content.text).join("");
    expect(t4text).toContain("Expensive answer.");
    sse.close();
  });
});

describe("Claude Code: commands, cancel and resume", () => {
  it("streams a Bash command's output", async () => {
    const { id, sse } = await session("claude");
    llm.respond((req) => {
      if (!isMainLoop(req.body)) return { text: "Title" };
      if (JSON.stringify(req.body.messages.at(-1)).includes("tool_result")) return { text: "Ran it." };
      return { toolUse: [{ name: "Bash", input: { command: "echo streamed-output-42", description: "Print a marker" } }] };
    });
    const t = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "run the marker" })).body.turnId;
    // Claude Code runs a read-only command like `echo` without asking; answer if it does ask.
    const asked = await sse.waitFor((evs) => evs.some((e) => e.type === "interaction.requested" || (e.type === "turn.ended" && e.turnId === t)), 50_000, "Bash turn or its permission");
    const req = asked.find((e) => e.type === "interaction.requested")?.data as any;
    if (req) await server.api("POST", `/v1/sessions/${id}/interactions/${req.interactionId}`, { optionId: req.options.find((o: any) => o.kind === "allow_once").optionId });
    const events = await sse.waitFor(turnEnded(t), 50_000, "Bash turn");
    const updates = events.filter((e) => e.turnId === t && e.type === "update" && (e.data as any).sessionUpdate === "tool_call_update");
    expect(JSON.stringify(updates.map((e) => e.data))).toContain("streamed-output-42");
    sse.close();
  });

  it("cancels during a slow LLM stream, then the next prompt works", async () => {
    const { id, sse } = await session("claude");
    llm.respond((req) => (isMainLoop(req.body) ? { text: "word ".repeat(200), pieces: 200, delayMs: 50 } : { text: "Title" }));
    const t1 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "talk slowly" })).body.turnId;
    await sse.waitFor((evs) => evs.filter((e) => e.turnId === t1 && e.type === "update" && (e.data as any).sessionUpdate === "agent_message_chunk").length >= 3, 60_000, "some streamed words");
    expect((await server.api("POST", `/v1/sessions/${id}/cancel`)).status).toBe(202);
    const events = await sse.waitFor(turnEnded(t1), 30_000, "cancelled turn");
    expect((events.find((e) => e.type === "turn.ended" && e.turnId === t1)!.data as any).stopReason).toBe("cancelled");
    llm.respond((req) => (isMainLoop(req.body) ? { text: "Back again." } : { text: "Title" }));
    const t2 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "are you there" })).body.turnId;
    const after = await sse.waitFor(turnEnded(t2), 60_000, "next turn");
    expect((after.find((e) => e.type === "turn.ended" && e.turnId === t2)!.data as any).stopReason).toBe("end_turn");
    sse.close();
  });

  it("comes back after an idle stop with its history (session/load)", async () => {
    const { id, sse } = await session("claude", { idleTimeoutSec: 1 });
    llm.respond((req) => (isMainLoop(req.body) ? { text: "The secret word is pelican." } : { text: "Title" }));
    const t1 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "Remember a word" })).body.turnId;
    await sse.waitFor(turnEnded(t1), 60_000, "first turn");
    await sse.waitFor(hasStatus("stopped"), 20_000, "idle stop");
    const before = llm.requests.length;
    const t2 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "What was the word?" })).body.turnId;
    await sse.waitFor(turnEnded(t2), 90_000, "turn after resume");
    const main = llm.requests.slice(before).filter((r) => isMainLoop(r.body)).at(-1)!;
    expect(JSON.stringify(main.body.messages)).toContain("pelican");
    sse.close();
  });
});

describe("the gateway's tokens and the real key", () => {
  it("refuses a token of another session and a made-up one, and keeps the real key out of the sandbox", async () => {
    const a = await session("claude");
    const b = await session("claude");
    const dir = join(server.dataDir, "sandboxes", a.id);
    const files = walk(dir).filter((f) => !f.includes("/relay/journal"));
    for (const f of files) expect(readFileSync(f, "utf8").includes(realKey), f).toBe(false);
    const env = JSON.parse(readFileSync(join(dir, "relay", "config.json"), "utf8")).agent.env;
    expect(JSON.stringify(env)).not.toContain(realKey);
    const tokenOfA = env.ANTHROPIC_API_KEY as string;
    expect(tokenOfA).toMatch(/^gw_/);

    const call = (token: string) =>
      fetch(`${server.url}/gateway/anthropic/v1/messages`, { method: "POST", headers: { "x-api-key": token, "content-type": "application/json" }, body: JSON.stringify({ model: "claude-x", max_tokens: 5, messages: [] }) });
    expect((await call(tokenOfA)).status).toBe(200);
    expect((await call(tokenOfA.replace(a.id, b.id))).status).toBe(401);
    expect((await call("gw_nonsense")).status).toBe(401);
    await server.api("DELETE", `/v1/sessions/${a.id}`);
    expect((await call(tokenOfA)).status).toBe(401);
    a.sse.close();
    b.sse.close();
  });
});

describe("OpenCode through the gateway", () => {
  it("writes a file with `ask` permissions after the user approves", async () => {
    const { id, sse } = await session("opencode");
    llm.respond((req) => {
      if (!isMainLoop(req.body)) return { text: "A title" };
      const last = JSON.stringify(req.body.messages.at(-1));
      if (last.includes("tool_result")) return { text: "Wrote it." };
      return { toolUse: [{ name: "write", input: { filePath: "/workspace/oc.txt", content: "from opencode\n" } }] };
    });
    const t1 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "write oc.txt" })).body.turnId;
    const asked = await sse.waitFor((evs) => evs.some((e) => e.type === "interaction.requested") || evs.some((e) => e.type === "turn.ended"), 90_000, "permission request");
    const req = asked.find((e) => e.type === "interaction.requested")?.data as any;
    expect(req, JSON.stringify(asked.slice(-5))).toBeTruthy();
    const allow = req.options.find((o: any) => o.kind === "allow_once");
    expect((await server.api("POST", `/v1/sessions/${id}/interactions/${req.interactionId}`, { optionId: allow.optionId })).status).toBe(200);
    await sse.waitFor(turnEnded(t1), 90_000, "turn end");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=oc.txt`)).body.content).toBe("from opencode\n");
    sse.close();
  });
});

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s) continue;
    if (s.isDirectory()) out.push(...walk(p));
    else if (s.isFile() && s.size < 5_000_000) out.push(p);
  }
  return out;
}
