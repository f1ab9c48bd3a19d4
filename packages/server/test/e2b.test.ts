/**
 * Airlock sessions on the `e2b` provider, through the HTTP API, with the real E2B SDK against the test kit's
 * fake E2B: the scripted agent runs in a fake sandbox under the real sandboxd. Also E2B's failures (wrong
 * key, quota, missing template, a sandbox killed behind our back) becoming clear session errors, fast.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { type FakeE2B, mcpServerPath, startFakeE2B, startTestMcpHttpServer } from "@airlock/testkit";
import { startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { nodeModules } from "../src/agents/packages.ts";
import { nodeModulesDir, prepareScript } from "../src/providers/e2b/layout.ts";
import { SseReader, type TestServer, hasStatus, removeDir, startServer, textOf, turnEnded } from "./harness.ts";
import { showServerLogOnFailure } from "./server-log.ts";

const canRun = process.getuid?.() === 0;
const airlockTemplate = { binds: [{ host: nodeModules, sandbox: nodeModulesDir }], setup: prepareScript };

let fake: FakeE2B;
let server: TestServer | null = null;
showServerLogOnFailure(() => server);

beforeAll(async () => {
  if (canRun) fake = await startFakeE2B({ templates: { airlock: airlockTemplate } });
});
afterAll(async () => {
  await fake?.close();
});
afterEach(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  server = null;
  fake?.clearFaults();
});

async function create(s: TestServer, body: Record<string, unknown> = {}) {
  const res = await s.api("POST", "/v1/sessions", { agent: "scripted", provider: "e2b", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** A port nobody listens on now: the server must know its own URL (AIRLOCK_PUBLIC_URL) before it starts. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

const sandboxOf = (sessionId: string) => fake.sandboxes().find((s) => s.metadata["airlock.session"] === sessionId);
/** Waits for `ready`; a session that fails instead fails the test at once, with its reason. */
async function ready(sse: SseReader): Promise<AirlockEvent[]> {
  const events = await sse.waitFor((evs) => hasStatus("ready")(evs) || failure(evs) !== undefined, 60_000, "ready");
  const failed = failure(events);
  if (failed) throw new Error(`the session failed instead of becoming ready: ${failed.reason}`);
  return events;
}

const failure = (events: AirlockEvent[]) => events.find((e) => e.type === "session.status" && e.data.status === "failed")?.data as { reason?: string } | undefined;

describe.skipIf(!canRun)("sessions on the e2b provider (fake E2B)", () => {
  it("prompt, permission and SSE resume; the sandbox carries Airlock's labels and DELETE kills it", async () => {
    server = await startServer(fake.env);
    const health = await server.api("GET", "/healthz");
    expect(health.body.providers).toContain("e2b");
    expect(health.body.unconfiguredProviders).toEqual([]);
    expect((await server.api("GET", "/v1/providers")).body.providers.find((p: any) => p.name === "e2b")).toMatchObject({ configured: true, default: false });
    const id = await create(server, { workspace: { files: { "README.md": "# demo\n" } } });
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    const readyEvents = await ready(sse);
    const steps = readyEvents.filter((e) => e.type === "session.status").map((e) => (e.data as { step?: string }).step).filter(Boolean);
    expect(steps.join(" | ")).toMatch(/creating an E2B sandbox from template "airlock"/);

    const sbx = sandboxOf(id)!;
    expect(sbx.metadata["airlock.installation"]).toMatch(/^[0-9a-f]+$/);
    expect(sbx.state).toBe("running");
    expect(sbx.autoPause).toBe(true);
    expect(sbx.network).toMatchObject({ allowPublicTraffic: false, denyOut: ["0.0.0.0/0"] });

    // a permission request, answered through the API; the agent writes through sandboxd in the sandbox
    const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "permission" })).body.turnId;
    const asked = await sse.waitFor((evs) => evs.some((e) => e.type === "interaction.requested"), 30_000, "permission request");
    const req = asked.find((e) => e.type === "interaction.requested")!.data as { interactionId: string };
    await sse.waitFor(hasStatus("awaiting_input"));
    expect((await server.api("POST", `/v1/sessions/${id}/interactions/${req.interactionId}`, { optionId: "allow" })).status).toBe(200);
    const done = await sse.waitFor(turnEnded(turn), 30_000, "turn end");
    expect(textOf(done, turn)).toContain("Permission granted");
    // the turn started with the sandbox's timeout pushed a full idle period (+ a minute) ahead
    expect(fake.calls.some((c) => c.route === "timeout" && c.path.includes(sbx.id) && c.body?.timeout === 960)).toBe(true);
    expect(done.some((e) => e.type === "file.changed" && (e.data as { path: string }).path === "permitted.txt")).toBe(true);
    const file = await server.api("GET", `/v1/sessions/${id}/files?path=permitted.txt`);
    expect([file.status, file.body.content]).toEqual([200, "approved\n"]);
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=README.md`)).body.content).toBe("# demo\n");
    expect((await server.api("GET", `/v1/sessions/${id}/diff`)).body.diff).toContain("+approved");

    // SSE resume: a client drops mid-turn and comes back with Last-Event-ID; no gap, no duplicate
    const slow = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "slow 2" })).body.turnId;
    await sse.waitFor((evs) => evs.filter((e) => e.turnId === slow && e.type === "update").length >= 3, 30_000, "some chunks");
    sse.close();
    const last = sse.events.at(-1)!.seq;
    const resumed = new SseReader(`${server.url}/v1/sessions/${id}/events`, last);
    const rest = await resumed.waitFor(turnEnded(slow), 30_000, "slow turn end after resume");
    expect(rest[0].seq).toBe(last + 1);
    const all = [...sse.events, ...rest];
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(textOf(all, slow)).toContain("chunk 20");
    resumed.close();

    expect((await server.api("DELETE", `/v1/sessions/${id}`)).status).toBe(202);
    const deadline = Date.now() + 15_000;
    while (fake.sandbox(sbx.id)?.state !== "killed" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(fake.sandbox(sbx.id)).toMatchObject({ state: "killed", processCount: 0 });
  });

  it("re-attaches to the sandbox after the server is killed mid-turn", async () => {
    server = await startServer(fake.env);
    const id = await create(server);
    let sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await ready(sse);
    const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "slow 2" })).body.turnId;
    await sse.waitFor((evs) => evs.filter((e) => e.type === "update").length >= 3, 30_000, "some chunks");
    await server.kill();
    sse.close();
    await server.restart();
    sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    const events = await sse.waitFor(turnEnded(turn), 30_000, "turn end after restart").catch((err) => {
      throw new Error(`${err.message}\nserver log:\n${server!.log().slice(-3000)}`);
    });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect((events.find((e) => e.type === "turn.ended")!.data as { stopReason: string }).stopReason).toBe("end_turn");
    const next = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo again" })).body.turnId;
    await sse.waitFor(turnEnded(next), 30_000, "next turn");
    expect(textOf(sse.events, next)).toContain("again");
    sse.close();
  });

  it("pauses an idle session's sandbox and resumes it on the next prompt, also after a restart", async () => {
    server = await startServer(fake.env);
    const id = await create(server, { idleTimeoutSec: 1 });
    let sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await ready(sse);
    const first = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo before the pause" })).body.turnId;
    await sse.waitFor(turnEnded(first), 30_000, "first turn");
    await sse.waitFor(hasStatus("paused"), 15_000, "paused when idle");
    const sbx = sandboxOf(id)!;
    expect(fake.sandbox(sbx.id)?.state).toBe("paused");
    // a restart leaves it paused: nothing wakes a sandbox but a prompt
    await server.kill();
    sse.close();
    await server.restart();
    await new Promise((r) => setTimeout(r, 500));
    expect((await server.api("GET", `/v1/sessions/${id}`)).body.status).toBe("paused");
    expect(fake.sandbox(sbx.id)?.state).toBe("paused");
    sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "recall" })).body.turnId;
    const events = await sse.waitFor(turnEnded(turn), 30_000, "turn after resume");
    expect(fake.sandbox(sbx.id)?.state).toBe("running");
    // the same agent process answered: it remembers the prompt from before the pause
    expect(textOf(events, turn)).toContain("echo before the pause");
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    sse.close();
  });

  it("reaps the sandbox of a session the store no longer knows at start-up, and keeps the others", async () => {
    server = await startServer(fake.env);
    const orphan = await create(server);
    const kept = await create(server);
    for (const id of [orphan, kept]) {
      const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
      await ready(sse);
      sse.close();
    }
    await server.kill();
    const Database = (await import("better-sqlite3")).default;
    const files = (await import("node:fs")).readdirSync(server.dataDir).filter((f) => f.endsWith(".db") || f.endsWith(".sqlite"));
    const db = new Database(`${server.dataDir}/${files[0]}`);
    db.prepare("DELETE FROM sessions WHERE id = ?").run(orphan);
    db.close();
    const orphanSandbox = sandboxOf(orphan)!.id;
    await server.restart();
    const deadline = Date.now() + 15_000;
    while (fake.sandbox(orphanSandbox)?.state !== "killed" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(fake.sandbox(orphanSandbox)?.state).toBe("killed");
    expect(fake.sandbox(sandboxOf(kept)!.id)?.state).toBe("running");
    const sse = new SseReader(`${server.url}/v1/sessions/${kept}/events`);
    const turn = (await server.api("POST", `/v1/sessions/${kept}/prompt`, { text: "echo still mine" })).body.turnId;
    expect(textOf(await sse.waitFor(turnEnded(turn), 30_000, "turn"), turn)).toContain("still mine");
    sse.close();
  });

  it("runs the built-in agent, which reaches the gateway at AIRLOCK_PUBLIC_URL and edits the sandbox's workspace", async () => {
    const llm = await startFakeAnthropic({ apiKey: "sk-ant-real" });
    try {
      const port = await freePort();
      server = await startServer({ ...fake.env, AIRLOCK_PORT: String(port), AIRLOCK_PUBLIC_URL: `http://127.0.0.1:${port}`, ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: "sk-ant-real" });
      const id = await create(server, { agent: "airlock", permissionMode: "auto", workspace: { files: { "app.txt": "v1\n" } } });
      const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
      await ready(sse);
      llm.respond((r) =>
        JSON.stringify(r.body.messages.at(-1)).includes("tool_result") ? { text: "Updated app.txt." } : { toolUse: [{ name: "edit_file", input: { path: "app.txt", old_string: "v1", new_string: "v2" } }] },
      );
      const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "bump the version" })).body.turnId;
      const events = await sse.waitFor(turnEnded(turn), 60_000, "turn end");
      expect(textOf(events, turn)).toBe("Updated app.txt.");
      expect((await server.api("GET", `/v1/sessions/${id}/files?path=app.txt`)).body.content).toBe("v2\n");
      expect(events.some((e) => e.type === "file.changed" && (e.data as { path: string }).path === "app.txt")).toBe(true);
      // Through the gateway: the upstream saw the real key; the sandbox had only the session's token.
      expect(llm.requests.filter((r) => r.method === "POST").every((r) => r.headers["x-api-key"] === "sk-ant-real")).toBe(true);
      sse.close();
    } finally {
      await llm.close();
    }
  });

  it("reaches an HTTP MCP server through AIRLOCK_PUBLIC_URL, its token added by the control plane; without that URL, a 400", async () => {
    const mcp = await startTestMcpHttpServer({ name: "e2b-web", token: "mcp-token-for-e2b" });
    try {
      const mcpServers = [{ type: "http", name: "web", url: mcp.url, headers: [{ name: "Authorization", value: "Bearer mcp-token-for-e2b" }] }];
      server = await startServer(fake.env);
      const refused = await server.api("POST", "/v1/sessions", { agent: "scripted", provider: "e2b", mcpServers });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toMatch(/^invalid mcpServers: .*AIRLOCK_PUBLIC_URL/);
      await server.stop();
      removeDir(server.dataDir);

      const port = await freePort();
      server = await startServer({ ...fake.env, AIRLOCK_PORT: String(port), AIRLOCK_PUBLIC_URL: `http://127.0.0.1:${port}` });
      const id = await create(server, { mcpServers: [...mcpServers, { name: "fs", command: "node", args: ["mcp/server.mjs", "in-e2b"] }], workspace: { files: { "mcp/server.mjs": readFileSync(mcpServerPath, "utf8") } } });
      const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
      await ready(sse);
      const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: 'mcp web add {"a": 40, "b": 2}' })).body.turnId;
      const events = await sse.waitFor(turnEnded(turn), 60_000, "turn end");
      expect(textOf(events, turn)).toBe("mcp__web__add answered: 42");
      expect(mcp.calls).toEqual([{ tool: "add", arguments: { a: 40, b: 2 } }]);
      expect(mcp.requests.every((r) => r.headers.authorization === "Bearer mcp-token-for-e2b")).toBe(true);
      const stdio = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: 'mcp fs echo {"text": "hi"}' })).body.turnId;
      expect(textOf(await sse.waitFor(turnEnded(stdio), 60_000, "turn end"), stdio)).toBe("mcp__fs__echo answered: in-e2b echoes: hi");
      const params = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "mcp" })).body.turnId;
      const said = textOf(await sse.waitFor(turnEnded(params), 60_000, "turn end"), params);
      expect(said).toContain(`http://127.0.0.1:${port}/gateway/mcp/web`);
      expect(said).not.toContain("mcp-token-for-e2b");
      sse.close();
    } finally {
      await mcp.close();
    }
  });

  it("reports files a command changes in the sandbox (no fs/* write): created and deleted, in the command's turn", async () => {
    server = await startServer(fake.env);
    const id = await create(server, { permissionMode: "auto", workspace: { files: { "old.txt": "bye\n" } } });
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await ready(sse);
    const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "run echo hi > made.txt && rm old.txt" })).body.turnId;
    const events = await sse.waitFor(turnEnded(turn), 30_000, "turn end");
    const changes = events.filter((e) => e.type === "file.changed" && e.turnId === turn).map((e) => e.data as { path: string; change: string; diff: string });
    expect(changes.map((c) => `${c.change} ${c.path}`).sort()).toEqual(["created made.txt", "deleted old.txt"]);
    expect(changes.find((c) => c.path === "made.txt")!.diff).toContain("+hi");
    sse.close();
  });

  it("starts from base and installs at start when the template is missing, with progress events", async () => {
    server = await startServer({ ...fake.env, AIRLOCK_E2B_TEMPLATE: "not-built-yet" });
    const id = await create(server);
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    const readyEvents = await ready(sse);
    const steps = readyEvents.map((e) => (e.type === "session.status" ? (e.data as { step?: string }).step : undefined)).filter(Boolean).join(" | ");
    expect(steps).toMatch(/template "not-built-yet" does not exist: starting from "base"/);
    expect(steps).toMatch(/preparing the sandbox/);
    expect(sandboxOf(id)?.templateID).toBe("base");
    const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo from base" })).body.turnId;
    expect(textOf(await sse.waitFor(turnEnded(turn), 30_000, "turn"), turn)).toContain("from base");
    sse.close();
  });
});

describe.skipIf(!canRun)("E2B failures become clear session errors, without hangs", () => {
  async function failed(env: Record<string, string>, setup?: () => void): Promise<{ reason: string; elapsed: number }> {
    server = await startServer(env);
    setup?.();
    const started = Date.now();
    const id = await create(server);
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    const events = await sse.waitFor((evs) => failure(evs) !== undefined, 20_000, "failed status");
    sse.close();
    const view = await server.api("GET", `/v1/sessions/${id}`);
    expect(view.body.status).toBe("failed");
    return { reason: view.body.statusReason as string, elapsed: Date.now() - started };
  }

  it("a wrong API key (401)", async () => {
    const { reason, elapsed } = await failed({ ...fake.env, E2B_API_KEY: "e2b_not_the_key" });
    expect(reason).toMatch(/E2B rejected the API key/);
    expect(reason).toMatch(/E2B_API_KEY/);
    expect(elapsed).toBeLessThan(15_000);
  });

  it("the concurrency quota (429)", async () => {
    const { reason } = await failed(fake.env, () =>
      fake.fail({ route: "create", status: 429, message: "you have reached the maximum number of concurrent E2B sandboxes (20). If you need more, please visit 'https://e2b.dev/docs/billing'" }),
    );
    expect(reason).toMatch(/E2B sandbox quota reached/);
  });

  it("a rate limit (429)", async () => {
    const { reason } = await failed(fake.env, () => fake.fail({ route: "create", status: 429, times: 2 }));
    expect(reason).toMatch(/rate limiting/);
  });

  it("a template that does not exist, with no base to fall back on (404)", async () => {
    const { reason } = await failed({ ...fake.env, AIRLOCK_E2B_TEMPLATE: "nope" }, () => fake.removeTemplate("base"));
    fake.addTemplate("base", {});
    expect(reason).toMatch(/E2B template "base" does not exist/);
    expect(reason).toMatch(/airlock e2b template build/);
  });

  it("an E2B API that does not answer (timeout)", async () => {
    const { reason, elapsed } = await failed({ ...fake.env, AIRLOCK_E2B_REQUEST_TIMEOUT_MS: "1500" }, () => fake.fail({ route: "create", status: 0, hang: true }));
    expect(reason).toMatch(/E2B timed out while creating the sandbox/);
    expect(elapsed).toBeLessThan(15_000);
  });

  it("a DELETE while E2B does not answer the create: the session stops at once", async () => {
    server = await startServer(fake.env);
    fake.fail({ route: "create", status: 0, hang: true });
    const id = await create(server);
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    const calls = fake.calls.length;
    while (!fake.calls.slice(calls - 1).some((c) => c.route === "create")) await new Promise((r) => setTimeout(r, 50));
    const asked = Date.now();
    expect((await server.api("DELETE", `/v1/sessions/${id}`)).status).toBe(202);
    await sse.waitFor(hasStatus("stopped"), 10_000, "stopped");
    // Well before the 30 s request timeout: the DELETE aborted the call.
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(failure(sse.events)).toBeUndefined();
    sse.close();
  });

  it("a sandbox killed behind our back", async () => {
    server = await startServer(fake.env);
    const id = await create(server);
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await ready(sse);
    await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "slow 30" });
    await sse.waitFor((evs) => evs.some((e) => e.type === "update"), 30_000, "turn running");
    const killedAt = Date.now();
    await fake.kill(sandboxOf(id)!.id);
    const events = await sse.waitFor((evs) => failure(evs) !== undefined, 20_000, "failed status");
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(failure(events)!.reason).toMatch(/E2B sandbox .* is gone/);
    expect(events.some((e) => e.type === "turn.ended" && (e.data as { stopReason: string }).stopReason === "error")).toBe(true);
    expect((await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "hi" })).status).toBe(409);
    sse.close();
  });
});

describe.skipIf(!canRun)("setup and services on the e2b provider (fake E2B)", () => {
  it("runs the setup commands and a service in the sandbox before the agent, with ~/.local/bin on its PATH", async () => {
    server = await startServer(fake.env);
    const port = await freePort();
    const id = await create(server, {
      setup: {
        commands: ["echo e2b setup ran", "mkdir -p ~/.local/bin && printf '#!/bin/sh\\necho e2b tool here\\n' > ~/.local/bin/e2b-tool && chmod +x ~/.local/bin/e2b-tool"],
        services: [{ name: "api", command: `node -e "require('http').createServer((q, s) => s.end('api up')).listen(${port}, () => console.log('api listening'))"`, readyPort: port, readyPath: "/" }],
      },
    });
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    const events = await ready(sse);
    const steps = events.flatMap((e) => (e.type === "session.status" && e.data.step?.startsWith("setup ") ? [e.data.step] : []));
    expect(steps).toEqual(["setup 1/2: echo e2b setup ran", expect.stringMatching(/^setup 2\/2: mkdir/)]);
    expect(events.some((e) => e.type === "terminal.output" && e.data.terminalId === "setup-1" && e.data.data === "e2b setup ran\n")).toBe(true);
    expect(events.some((e) => e.type === "service.status" && e.data.name === "api" && e.data.status === "running")).toBe(true);
    const services = (await server.api("GET", `/v1/sessions/${id}/services`)).body;
    expect(services).toMatchObject({ setup: { commands: 2, done: true }, services: [{ name: "api", status: "running", starts: 1 }] });
    expect((await server.api("GET", `/v1/sessions/${id}/services/api/log`)).body.lines).toContain("api listening");

    const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "run e2b-tool" })).body.turnId;
    await sse.waitFor(turnEnded(turn), 30_000, "turn");
    expect(textOf(sse.events, turn)).toContain("e2b tool here");
    sse.close();
  });
});
