/**
 * Session setup through the public API, with real local sandboxes and the scripted agent: setup commands run in
 * order before the agent (their output in the log), a failing one fails the session with its exit code and
 * output, services are waited for and kept beside the agent (restarted after an idle stop, still there after a
 * restart of the server), a tool installed into ~/.local/bin runs by name, and bad input is refused.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { SseReader, type TestServer, hasStatus, pidsMatching, removeDir, startServer, textOf, turnEnded } from "./harness.ts";

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

async function create(body: Record<string, unknown>): Promise<{ id: string; sse: SseReader }> {
  const res = await server.api("POST", "/v1/sessions", { agent: "scripted", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id, sse: new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`) };
}

async function prompt(id: string, sse: SseReader, text: string): Promise<string> {
  const res = await server.api("POST", `/v1/sessions/${id}/prompt`, { text });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await sse.waitFor(turnEnded(res.body.turnId), 30_000, `turn "${text}"`);
  return textOf(sse.events, res.body.turnId);
}

const steps = (events: AirlockEvent[]) => events.flatMap((e) => (e.type === "session.status" && e.data.step?.startsWith("setup ") ? [e.data.step] : []));
const outputOf = (events: AirlockEvent[], terminalId: string) =>
  events.flatMap((e) => (e.type === "terminal.output" && e.data.terminalId === terminalId && e.data.data ? [e.data.data] : [])).join("");

// A tiny HTTP server inside the sandbox: it listens only after a second, so a session that is ready at once did not wait.
const webService = (port: number) => ({
  name: "web",
  command: `node -e "setTimeout(() => require('http').createServer((q, s) => { console.log('hit ' + q.url); s.end('pong from web'); }).listen(${port}, () => console.log('listening on ${port}')), 1000)"`,
  readyPort: port,
  readyPath: "/health",
});

describe("setup", () => {
  it("runs the commands in order before the agent, their output in the log, and puts ~/.local/bin on the agent's PATH", async () => {
    const { id, sse } = await create({
      setup: {
        commands: [
          "echo first; echo first >> setup.txt",
          "echo second >&2; echo second >> setup.txt",
          "mkdir -p ~/.local/bin && printf '#!/bin/sh\\necho hello from a setup tool\\n' > ~/.local/bin/hello-tool && chmod +x ~/.local/bin/hello-tool",
        ],
      },
    });
    const events = await sse.waitFor(hasStatus("ready"), 30_000, "ready");
    expect(steps(events)).toEqual([
      "setup 1/3: echo first; echo first >> setup.txt",
      "setup 2/3: echo second >&2; echo second >> setup.txt",
      expect.stringMatching(/^setup 3\/3: mkdir -p ~\/.local\/bin/),
    ]);
    expect(outputOf(events, "setup-1")).toBe("first\n");
    expect(outputOf(events, "setup-2")).toBe("second\n");
    const exits = events.filter((e) => e.type === "terminal.output" && e.data.terminalId.startsWith("setup-") && "exitCode" in e.data);
    expect(exits.map((e) => (e.data as any).exitCode)).toEqual([0, 0, 0]);
    // Everything of the setup comes before the session is ready.
    const ready = events.find((e) => e.type === "session.status" && e.data.status === "ready")!;
    expect(exits.every((e) => e.seq < ready.seq)).toBe(true);
    expect(readFileSync(join(server.dataDir, "sandboxes", id, "workspace", "setup.txt"), "utf8")).toBe("first\nsecond\n");

    // The agent runs the installed tool by name; npm's global prefix is the writable ~/.local.
    expect(await prompt(id, sse, "run hello-tool")).toContain("hello from a setup tool");
    expect(await prompt(id, sse, "run echo $NPM_CONFIG_PREFIX")).toContain("/home/agent/.local");
    expect((await server.api("GET", `/v1/sessions/${id}/services`)).body).toEqual({ services: [], setup: { commands: 3, done: true } });
    sse.close();
  });

  it("fails the session on a failing command, with its exit code and the tail of its output; later commands do not run", async () => {
    const { id, sse } = await create({ setup: { commands: ["echo one", "echo 'cannot find the package' >&2; exit 3", "touch never-made"] } });
    const events = await sse.waitFor(hasStatus("failed"), 30_000, "failed");
    const failed = events.find((e) => e.type === "session.status" && e.data.status === "failed")!;
    expect((failed.data as any).reason).toMatch(/^setup command 2\/3 failed with exit code 3: echo 'cannot find the package'/);
    expect((failed.data as any).reason).toContain("cannot find the package");
    const error = events.find((e) => e.type === "error")!;
    expect(error.data).toMatchObject({ code: "setup_failed", exitCode: 3, detail: "cannot find the package" });
    expect(steps(events)).toHaveLength(2);
    const view = (await server.api("GET", `/v1/sessions/${id}`)).body;
    expect(view.status).toBe("failed");
    expect(view.statusReason).toContain("exit code 3");
    // No agent started: no `initialize` ever reached one.
    const journal = readFileSync(join(server.dataDir, "sandboxes", id, "relay", "journal.ndjson"), "utf8");
    expect(journal).not.toContain('"kind":"started"');
    expect(journal).not.toContain("never-made");
    sse.close();
  });
});

describe("stopping during setup", () => {
  it("DELETE while a setup command runs kills it and starts no agent", async () => {
    const { id, sse } = await create({ setup: { commands: ["echo waiting; sleep 60; touch too-late"] } });
    await sse.waitFor((evs) => outputOf(evs, "setup-1").includes("waiting"), 30_000, "the command's output");
    const dir = join(server.dataDir, "sandboxes", id);
    const started = Date.now();
    expect((await server.api("DELETE", `/v1/sessions/${id}`)).status).toBe(202);
    await sse.waitFor(hasStatus("stopped"), 15_000, "stopped");
    expect(Date.now() - started).toBeLessThan(10_000);
    for (let i = 0; i < 50 && pidsMatching(dir).length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pidsMatching(dir)).toEqual([]);
    expect(sse.events.some((e) => e.type === "session.status" && e.data.status === "failed")).toBe(false);
    sse.close();
  });
});

describe("services", () => {
  it("waits for readiness, keeps the service beside the agent, serves its log, and restarts it after an idle stop", async () => {
    const { id, sse } = await create({ idleTimeoutSec: 3, setup: { commands: ["echo ran >> setup-runs.txt"], services: [webService(4100)] } });
    let events = await sse.waitFor(hasStatus("ready"), 30_000, "ready");
    const running = events.find((e) => e.type === "service.status" && e.data.status === "running");
    const ready = events.find((e) => e.type === "session.status" && e.data.status === "ready")!;
    expect(running, "the service became ready").toBeDefined();
    expect(running!.seq).toBeLessThan(ready.seq);

    // The agent reaches the service on localhost: they share the sandbox's network.
    expect(await prompt(id, sse, `run node -e "fetch('http://localhost:4100/from-agent').then(r => r.text()).then(console.log)"`)).toContain("pong from web");

    const list = (await server.api("GET", `/v1/sessions/${id}/services`)).body;
    expect(list.setup).toEqual({ commands: 1, done: true });
    expect(list.services).toEqual([
      expect.objectContaining({ name: "web", status: "running", readyPort: 4100, readyPath: "/health", exitCode: null, starts: 1 }),
    ]);
    expect(list.services[0]).not.toHaveProperty("pid");
    const log = (await server.api("GET", `/v1/sessions/${id}/services/web/log?tail=50`)).body;
    expect(log.name).toBe("web");
    expect(log.lines).toEqual(expect.arrayContaining(["listening on 4100", "hit /health", "hit /from-agent"]));
    expect((await server.api("GET", `/v1/sessions/${id}/services/web/log?tail=1`)).body.lines).toHaveLength(1);
    expect((await server.api("GET", `/v1/sessions/${id}/services/nope/log`)).status).toBe(404);
    expect((await server.api("GET", `/v1/sessions/${id}/services/web/log?tail=0`)).status).toBe(400);

    // Idle: the agent stops, and its service with it.
    events = await sse.waitFor(hasStatus("stopped"), 20_000, "idle stop");
    await sse.waitFor((evs) => evs.some((e) => e.type === "service.status" && e.data.status === "exited"), 10_000, "service exit");
    expect((await server.api("GET", `/v1/sessions/${id}/services`)).body.services[0].status).toBe("stopped");
    expect((await server.api("GET", `/v1/sessions/${id}/services/web/log`)).status).toBe(409);

    // The next prompt resumes: the service starts again (the setup commands do not run again).
    expect(await prompt(id, sse, `run node -e "fetch('http://localhost:4100/again').then(r => r.text()).then(console.log)"`)).toContain("pong from web");
    const again = (await server.api("GET", `/v1/sessions/${id}/services`)).body.services[0];
    expect(again).toMatchObject({ status: "running", starts: 2 });
    expect(readFileSync(join(server.dataDir, "sandboxes", id, "workspace", "setup-runs.txt"), "utf8")).toBe("ran\n");
    expect(steps(sse.events)).toHaveLength(1);

    // DELETE leaves nothing of the sandbox running: not the service, not the holder of its network.
    const dir = join(server.dataDir, "sandboxes", id);
    expect(pidsMatching(dir).length).toBeGreaterThan(0);
    expect((await server.api("DELETE", `/v1/sessions/${id}`)).status).toBe(202);
    for (let i = 0; i < 50 && pidsMatching(dir).length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pidsMatching(dir)).toEqual([]);
    sse.close();
  });

  it("fails the session when a service is not ready in time, with the service's output", async () => {
    const { id, sse } = await create({ setup: { services: [{ name: "slow", command: "echo warming up; sleep 60", readyPort: 4999, readyTimeoutSec: 2 }] } });
    const events = await sse.waitFor(hasStatus("failed"), 30_000, "failed");
    const failed = events.find((e) => e.type === "session.status" && e.data.status === "failed")!;
    expect((failed.data as any).reason).toMatch(/service "slow" was not ready on port 4999 within 2 s/);
    expect((failed.data as any).reason).toContain("warming up");
    expect((await server.api("GET", `/v1/sessions/${id}`)).body.status).toBe("failed");
    sse.close();
  });

  it("keeps services running across a restart of the server", async () => {
    const { id, sse } = await create({ setup: { services: [webService(4101)] } });
    await sse.waitFor(hasStatus("ready"), 30_000, "ready");
    sse.close();
    await server.kill();
    await server.restart();
    const after = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await after.waitFor((evs) => evs.length > 0);
    // The restarted server re-attaches to the running relay in the background.
    let service: any;
    for (let i = 0; i < 50 && service?.status !== "running"; i++) {
      if (i) await new Promise((r) => setTimeout(r, 200));
      service = (await server.api("GET", `/v1/sessions/${id}/services`)).body.services[0];
    }
    expect(service).toMatchObject({ name: "web", status: "running", starts: 1 });
    expect(await prompt(id, after, `run node -e "fetch('http://localhost:4101/after-restart').then(r => r.text()).then(console.log)"`)).toContain("pong from web");
    after.close();
  });
});

describe("bad setup input", () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ["a command too long", { commands: ["x".repeat(16 * 1024 + 1)] }, /setup\.commands\.0.*longer than 16384 bytes/],
    ["an empty command", { commands: ["  "] }, /setup\.commands\.0.*empty/],
    ["too many commands", { commands: Array.from({ length: 33 }, () => "true") }, /setup\.commands.*at most 32/],
    ["a bad service name", { services: [{ name: "../x", command: "true" }] }, /setup\.services\.0\.name/],
    ["duplicate service names", { services: [{ name: "a", command: "true" }, { name: "a", command: "true" }] }, /setup\.services\.1\.name.*duplicate/],
    ["a port out of range", { services: [{ name: "a", command: "true", readyPort: 70000 }] }, /setup\.services\.0\.readyPort/],
    ["readyPath without a port", { services: [{ name: "a", command: "true", readyPath: "/" }] }, /setup\.services\.0\.readyPath.*needs readyPort/],
    ["an unknown field", { commands: [], script: "x" }, /setup/],
  ];
  it.each(cases)("refuses %s with a 400 naming the field, creating nothing", async (_what, setup, message) => {
    const before = (await server.api("GET", "/v1/sessions")).body.sessions.length;
    const res = await server.api("POST", "/v1/sessions", { agent: "scripted", setup });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error)).toMatch(message);
    expect((await server.api("GET", "/v1/sessions")).body.sessions.length).toBe(before);
  });
});
