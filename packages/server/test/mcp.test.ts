/**
 * MCP servers of a session, end to end with real MCP servers made with the official SDK: a stdio server run
 * inside the local sandbox (the test kit's bundled server, seeded into the workspace) and a Streamable HTTP
 * server (and an SSE one) on the host that requires a bearer token, reached through the control plane. The
 * scripted agent calls their tools with the SDK's client; each call is a tool call in the log. The HTTP
 * server's token never reaches the sandbox.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { type TestMcpHttpServer, mcpServerPath, startTestMcpHttpServer } from "@airlock/testkit";
import { type FakeAnthropic, type RecordedRequest, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { SseReader, type TestServer, hasStatus, removeDir, startServer, textOf, turnEnded } from "./harness.ts";

const mcpToken = "mcp-secret-token-7f3a9c1e";
const llmKey = "sk-ant-real-key-for-mcp-tests";
let server: TestServer;
let web: TestMcpHttpServer;
let llm: FakeAnthropic;
const serverScript = readFileSync(mcpServerPath, "utf8");

beforeAll(async () => {
  web = await startTestMcpHttpServer({ name: "web-tools", token: mcpToken });
  llm = await startFakeAnthropic({ apiKey: llmKey });
  server = await startServer({ ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: llmKey });
});
afterAll(async () => {
  await server?.stop();
  await web?.close();
  await llm?.close();
  if (server) removeDir(server.dataDir);
});

/** Every regular file under `dir` (sockets and the like left out). */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    return st?.isDirectory() ? filesUnder(path) : st?.isFile() ? [path] : [];
  });

const httpServer = (type: "http" | "sse" = "http", name = "web") => ({
  type,
  name,
  url: type === "http" ? web.url : web.sseUrl,
  headers: [{ name: "Authorization", value: `Bearer ${mcpToken}` }],
});
const stdioServer = { name: "fs", command: "node", args: ["mcp/server.mjs", "sandboxed-tools"] };

async function session(body: Record<string, unknown>): Promise<{ id: string; view: any; sse: SseReader }> {
  const res = await server.api("POST", "/v1/sessions", { agent: "scripted", permissionMode: "auto", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`);
  return { id: res.body.id as string, view: res.body, sse };
}

async function turn(id: string, sse: SseReader, text: string): Promise<{ turnId: string; events: AirlockEvent[] }> {
  const res = await server.api("POST", `/v1/sessions/${id}/prompt`, { text });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const events = await sse.waitFor(turnEnded(res.body.turnId), 60_000, `turn "${text}"`);
  return { turnId: res.body.turnId, events: events.filter((e) => e.turnId === res.body.turnId) };
}

const toolCalls = (events: AirlockEvent[]) => events.filter((e) => e.type === "update" && (e.data as any).sessionUpdate === "tool_call").map((e) => e.data as any);
const toolUpdates = (events: AirlockEvent[]) => events.filter((e) => e.type === "update" && (e.data as any).sessionUpdate === "tool_call_update").map((e) => e.data as any);

describe("mcpServers at session creation", { timeout: 120_000 }, () => {
  it("refuses bad input with a 4xx naming the field, and creates nothing", async () => {
    const before = (await server.api("GET", "/v1/sessions")).body.sessions.length;
    const cases: Array<[unknown, RegExp]> = [
      [[{ name: "x" }], /^invalid mcpServers\.0: give either `command`/],
      [[{ name: "x", type: "http", url: "not a url" }], /^invalid mcpServers\.0\.url: must be an absolute URL/],
      [[{ name: "x", type: "http", url: "file:///etc/passwd" }], /^invalid mcpServers\.0\.url: must be an http/],
      [[{ name: "x", command: "a" }, { name: "x", command: "b" }], /^invalid mcpServers\.1\.name: "x" is given twice/],
      [Array.from({ length: 21 }, (_, i) => ({ name: `s${i}`, command: "a" })), /^invalid mcpServers: at most 20 servers/],
      [[{ name: "x", command: "a", url: "http://h" }], /^invalid mcpServers\.0: give either `command` or `url`, not both/],
      [[{ name: "x/y", command: "a" }], /^invalid mcpServers\.0\.name: /],
      [{ name: "x" }, /^invalid mcpServers: /],
    ];
    for (const [mcpServers, message] of cases) {
      const res = await server.api("POST", "/v1/sessions", { agent: "scripted", mcpServers });
      expect(res.status, JSON.stringify(mcpServers)).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    expect((await server.api("GET", "/v1/sessions")).body.sessions.length).toBe(before);
  });

  it("/v1/agents says which MCP transports each agent takes", async () => {
    const { agents } = (await server.api("GET", "/v1/agents")).body;
    const of = (name: string) => agents.find((a: any) => a.name === name).mcp;
    expect(of("scripted")).toEqual({ stdio: true, http: true, sse: true });
    expect(of("claude")).toEqual({ stdio: true, http: true, sse: true });
    expect(of("codex")).toEqual({ stdio: true, http: true, sse: false });
    expect(of("airlock")).toEqual({ stdio: true, http: true, sse: true });
  });
});

describe("a stdio MCP server inside the sandbox", { timeout: 120_000 }, () => {
  it("is started by the agent in the sandbox, and its tool call is in the log", async () => {
    const { id, sse } = await session({ workspace: { files: { "mcp/server.mjs": serverScript } }, mcpServers: [stdioServer] });
    await sse.waitFor(hasStatus("ready"), 60_000, "ready");
    const { events, turnId } = await turn(id, sse, 'mcp fs echo {"text":"hello from the sandbox"}');
    const call = toolCalls(events)[0];
    expect(call.title).toBe("mcp__fs__echo");
    expect(call.rawInput).toEqual({ text: "hello from the sandbox" });
    const done = toolUpdates(events).find((u) => u.toolCallId === call.toolCallId && u.status === "completed");
    expect(done?.content?.[0]?.content?.text).toBe("sandboxed-tools echoes: hello from the sandbox");
    expect(textOf(events, turnId)).toContain("answered: sandboxed-tools echoes");
    sse.close();
  });

  it("fails the session with a message naming the server and the command when the command is not in the sandbox", async () => {
    const { id, sse } = await session({ mcpServers: [{ name: "ghost", command: "no-such-mcp-server-binary", args: [] }] });
    const events = await sse.waitFor(hasStatus("failed"), 60_000, "failed");
    const reason = (events.find((e) => e.type === "session.status" && (e.data as any).status === "failed")!.data as any).reason;
    expect(reason).toContain('MCP server "ghost"');
    expect(reason).toContain('"no-such-mcp-server-binary" does not exist in the sandbox');
    expect((await server.api("GET", `/v1/sessions/${id}`)).body.statusReason).toContain("no-such-mcp-server-binary");
    sse.close();
  });
});

describe("an HTTP MCP server reached through the control plane", { timeout: 180_000 }, () => {
  it("is called with its token added by the control plane; the token never enters the sandbox", async () => {
    const { id, sse, view } = await session({ mcpServers: [httpServer("http")] });
    // The session shows header names, never their values.
    expect(view.mcpServers).toEqual([{ type: "http", name: "web", url: web.url, headers: ["Authorization"] }]);
    expect(JSON.stringify(view)).not.toContain(mcpToken);
    await sse.waitFor(hasStatus("ready"), 60_000, "ready");
    const callsBefore = web.calls.length;
    const { events } = await turn(id, sse, 'mcp web add {"a": 2, "b": 3}');
    const call = toolCalls(events)[0];
    expect(call.title).toBe("mcp__web__add");
    expect(toolUpdates(events).find((u) => u.toolCallId === call.toolCallId && u.status === "completed")?.content?.[0]?.content?.text).toBe("5");
    expect(web.calls.slice(callsBefore)).toEqual([{ tool: "add", arguments: { a: 2, b: 3 } }]);
    // Every request that reached the server carried the configured token, and no gateway token of Airlock.
    const reached = web.requests.filter((r) => r.headers.authorization === `Bearer ${mcpToken}`);
    expect(reached.length).toBeGreaterThan(0);
    expect(web.requests.some((r) => JSON.stringify(r.headers).includes("gw_"))).toBe(false);

    // What the agent got in session/new: a route on the sandbox's loopback with the session's gateway token.
    const params = textOf((await turn(id, sse, "mcp")).events);
    expect(params).toContain("http://127.0.0.1:4599/gateway/mcp/web");
    expect(params).not.toContain(mcpToken);
    expect(params).not.toContain(web.url);
    // Nowhere in the sandbox: no process's environment or command line, no file the agent can read. (The
    // pattern is split by quotes so the command line that greps does not match itself.)
    const procs = textOf((await turn(id, sse, `run for p in /proc/[0-9]*; do cat $p/environ $p/cmdline; done 2>/dev/null | tr '\\0' '\\n' > /tmp/all.txt; echo "paths $(grep -c '^PATH=' /tmp/all.txt) tokens $(grep -c 'mcp-secret''-token' /tmp/all.txt)"`)).events);
    expect(procs).toMatch(/paths [1-9]\d* tokens 0/);
    const files = textOf((await turn(id, sse, "run echo \"found $(grep -rl 'mcp-secret''-token' /workspace /home /tmp /run /etc 2>/dev/null | wc -l) files\"")).events);
    expect(files).toContain("found 0 files");

    // Stored sealed: not in clear anywhere in the data folder (the database, journals, gateway folders), nor in the
    // server's log.
    const holding = filesUnder(server.dataDir).filter((f) => readFileSync(f).includes(mcpToken));
    expect(holding).toEqual([]);
    expect(server.log()).not.toContain(mcpToken);

    // The route answers only with a session's gateway token.
    const wrong = await fetch(`${server.url}/gateway/mcp/web`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${mcpToken}` }, body: "{}" });
    expect(wrong.status).toBe(401);
    sse.close();
  });

  it("are given again in session/load when an idle-stopped session comes back, and still serve", async () => {
    const { id, sse } = await session({ idleTimeoutSec: 1, workspace: { files: { "mcp/server.mjs": serverScript } }, mcpServers: [stdioServer, httpServer("http")] });
    await sse.waitFor(hasStatus("ready"), 60_000, "ready");
    await sse.waitFor(hasStatus("stopped"), 30_000, "idle stop");
    const { events } = await turn(id, sse, 'mcp web echo {"text":"after the idle stop"}');
    expect(toolUpdates(events).at(-1)?.content?.[0]?.content?.text).toBe("web-tools echoes: after the idle stop");
    const again = await turn(id, sse, 'mcp fs add {"a":1,"b":1}');
    expect(toolUpdates(again.events).at(-1)?.content?.[0]?.content?.text).toBe("2");
    sse.close();
  });

  it("passes the older SSE transport through, its POST endpoint rewritten to the session's route", async () => {
    const { id, sse } = await session({ mcpServers: [httpServer("sse", "legacy")] });
    await sse.waitFor(hasStatus("ready"), 60_000, "ready");
    const { events } = await turn(id, sse, 'mcp legacy echo {"text":"over sse"}');
    const call = toolCalls(events)[0];
    expect(call.title).toBe("mcp__legacy__echo");
    expect(toolUpdates(events).find((u) => u.toolCallId === call.toolCallId)?.content?.[0]?.content?.text).toBe("web-tools echoes: over sse");
    expect(web.requests.some((r) => r.path === "/messages" && r.headers.authorization === `Bearer ${mcpToken}`)).toBe(true);
    sse.close();
  });

  it("answers a wrong token's call with the server's 401, shown as a failed tool call", async () => {
    const { id, sse } = await session({ mcpServers: [{ ...httpServer("http", "badkey"), headers: [{ name: "Authorization", value: "Bearer wrong" }] }] });
    await sse.waitFor(hasStatus("ready"), 60_000, "ready");
    const { events } = await turn(id, sse, "mcp badkey whoami");
    expect(toolUpdates(events).at(-1)?.status).toBe("failed");
    sse.close();
  });
});

describe("the built-in agent", { timeout: 180_000 }, () => {
  const toolResults = (r: RecordedRequest): any[] => {
    const last = r.body?.messages?.at(-1);
    return Array.isArray(last?.content) ? last.content.filter((b: any) => b.type === "tool_result") : [];
  };

  it("has the servers' tools as mcp__<server>__<tool> and calls them, each call a tool call in the log", async () => {
    const { id, sse } = await session({
      agent: "airlock",
      workspace: { files: { "mcp/server.mjs": serverScript } },
      mcpServers: [stdioServer, httpServer("http")],
    });
    await sse.waitFor(hasStatus("ready"), 60_000, "ready");
    const from = llm.requests.length;
    llm.respond((r) => {
      const results = toolResults(r);
      if (results.length === 0) return { toolUse: [{ name: "mcp__web__add", input: { a: 20, b: 22 } }, { name: "mcp__fs__echo", input: { text: "from the model" } }] };
      return { text: `The tools said: ${results.map((b: any) => (typeof b.content === "string" ? b.content : JSON.stringify(b.content))).join(" | ")}` };
    });
    const { events } = await turn(id, sse, "Use the MCP tools");
    const first = llm.requests.slice(from).find((r) => r.method === "POST" && Array.isArray(r.body?.tools))!;
    const names = first.body.tools.map((t: any) => t.name);
    expect(names).toEqual(expect.arrayContaining(["mcp__web__add", "mcp__web__echo", "mcp__web__whoami", "mcp__fs__echo", "mcp__fs__add", "read_file"]));
    expect(first.body.tools.find((t: any) => t.name === "mcp__web__add").input_schema).toMatchObject({ type: "object", required: ["a", "b"] });

    const calls = toolCalls(events);
    expect(calls.map((c) => c.title).sort()).toEqual(["mcp__fs__echo", "mcp__web__add"]);
    const completed = toolUpdates(events).filter((u) => u.status === "completed").map((u) => u.content?.[0]?.content?.text);
    expect(completed).toEqual(expect.arrayContaining(["42", "sandboxed-tools echoes: from the model"]));
    const second = llm.requests.slice(from).filter((r) => r.method === "POST" && toolResults(r).length > 0)[0];
    expect(JSON.stringify(toolResults(second))).toContain("42");
    expect(web.calls.at(-1)).toEqual({ tool: "add", arguments: { a: 20, b: 22 } });
    // The LLM never saw the MCP token either (it is the control plane's alone).
    expect(JSON.stringify(llm.requests.slice(from).map((r) => r.body))).not.toContain(mcpToken);
    sse.close();
  });
});

describe("Claude Code", { timeout: 240_000 }, () => {
  it("gets the HTTP server through ACP and calls its tool through the control plane", async () => {
    const { id, sse } = await session({ agent: "claude", mcpServers: [httpServer("http")] });
    await sse.waitFor(hasStatus("ready"), 120_000, "ready");
    const callsBefore = web.calls.length;
    const from = llm.requests.length;
    const mainLoop = (r: RecordedRequest) => Array.isArray(r.body?.tools) && r.body.tools.length > 0;
    llm.respond((r) => {
      if (!mainLoop(r)) return { text: "A title" };
      if (JSON.stringify(r.body.messages.at(-1)).includes("tool_result")) return { text: "Done." };
      return { toolUse: [{ name: "mcp__web__add", input: { a: 7, b: 8 } }] };
    });
    const { events } = await turn(id, sse, "Add 7 and 8 with the web tool");
    // Claude Code reached the server through the route, with the token the control plane added.
    const reached = web.requests.filter((r) => String(r.headers["user-agent"]).startsWith("claude-code"));
    expect(reached.length).toBeGreaterThan(0);
    expect(reached.every((r) => r.headers.authorization === `Bearer ${mcpToken}`)).toBe(true);
    expect(web.calls.slice(callsBefore)).toEqual([{ tool: "add", arguments: { a: 7, b: 8 } }]);
    const call = toolCalls(events).find((c) => JSON.stringify(c).includes("add"));
    expect(call, JSON.stringify(toolCalls(events))).toBeDefined();
    expect(toolUpdates(events).some((u) => u.toolCallId === call.toolCallId && u.status === "completed")).toBe(true);
    sse.close();
  });
});

describe("OpenCode", { timeout: 240_000 }, () => {
  it("gets the HTTP server through ACP and calls its tool through the control plane", async () => {
    const { id, sse } = await session({ agent: "opencode", mcpServers: [httpServer("http")] });
    await sse.waitFor(hasStatus("ready"), 120_000, "ready");
    const callsBefore = web.calls.length;
    const from = llm.requests.length;
    const mainLoop = (r: RecordedRequest) => Array.isArray(r.body?.tools) && r.body.tools.length > 0;
    let offered: string[] = [];
    llm.respond((r) => {
      if (!mainLoop(r)) return { text: "A title" };
      if (JSON.stringify(r.body.messages.at(-1)).includes("tool_result")) return { text: "Done." };
      offered = r.body.tools.map((t: any) => t.name);
      const name = offered.find((n) => /web.*add/.test(n)) ?? "web_add";
      return { toolUse: [{ name, input: { a: 5, b: 6 } }] };
    });
    const { events } = await turn(id, sse, "Add 5 and 6 with the web tool");
    expect(offered.some((n) => /web.*add/.test(n)), JSON.stringify(offered)).toBe(true);
    expect(web.calls.slice(callsBefore)).toEqual([{ tool: "add", arguments: { a: 5, b: 6 } }]);
    expect(toolCalls(events).length).toBeGreaterThan(0);
    expect(llm.requests.length).toBeGreaterThan(from);
    sse.close();
  });
});
