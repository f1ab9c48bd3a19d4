/**
 * A stopped server does not leave its sandboxes' relays and agents running for ever: past the orphan grace
 * (AIRLOCK_ORPHAN_GRACE_SEC) with no server attached, a relay stops its agent and ends, its journal kept, and
 * the next start of the server resumes the session; a relay whose sandbox folder was deleted ends at once.
 * A server back within the grace still re-attaches to the running agent.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SseReader, type TestServer, hasStatus, removeDir, startServer, textOf, turnEnded } from "./harness.ts";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  server = undefined;
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const relayState = (s: TestServer, id: string) => JSON.parse(readFileSync(join(s.dataDir, "sandboxes", id, "relay", "sandboxd.json"), "utf8")) as { pid: number; agentPid: number; host?: string };
async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function readySession(s: TestServer) {
  const created = await s.api("POST", "/v1/sessions", { agent: "scripted" });
  expect(created.status).toBe(201);
  const id: string = created.body.id;
  const sse = new SseReader(`${s.url}/v1/sessions/${id}/events`);
  await sse.waitFor(hasStatus("ready"), 30_000, "ready");
  const turn = (await s.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo before" })).body.turnId;
  await sse.waitFor(turnEnded(turn), 20_000, "first turn");
  sse.close();
  return id;
}

async function prompt(s: TestServer, id: string, text: string): Promise<string> {
  const sse = new SseReader(`${s.url}/v1/sessions/${id}/events`);
  const turn = await s.api("POST", `/v1/sessions/${id}/prompt`, { text });
  expect(turn.status, JSON.stringify(turn.body)).toBe(202);
  const events = await sse.waitFor(turnEnded(turn.body.turnId), 30_000, text);
  sse.close();
  return textOf(events, turn.body.turnId);
}

describe("relays and agents of a stopped server", () => {
  for (const shared of [true, false]) {
    it(`end after the orphan grace, journal kept; the next start resumes the session (${shared ? "shared relay" : "a relay process each"})`, async () => {
      server = await startServer({ AIRLOCK_ORPHAN_GRACE_SEC: "3", AIRLOCK_SHARED_RELAY: shared ? "1" : "0" });
      const id = await readySession(server);
      const state = relayState(server, id);
      expect(Boolean(state.host)).toBe(shared);
      await server.kill();
      expect(alive(state.agentPid) && alive(state.pid)).toBe(true);
      // The grace, the agent's stop, and (shared) the host relay's own wait once empty (no longer than the grace).
      await until("the agent to end", () => !alive(state.agentPid), 15_000);
      await until("the relay to end", () => !alive(state.pid), 15_000);
      const journal = join(server.dataDir, "sandboxes", id, "relay", "journal.ndjson");
      expect(existsSync(journal)).toBe(true);
      expect(readFileSync(join(server.dataDir, "sandboxes", id, "relay", "sandboxd.log"), "utf8")).toContain("orphan grace");

      await server.restart();
      const view = await server.api("GET", `/v1/sessions/${id}`);
      expect(view.body.status, JSON.stringify(view.body)).toBe("stopped");
      expect(await prompt(server, id, "echo after")).toContain("after");
      const all = new SseReader(`${server.url}/v1/sessions/${id}/events`);
      await all.waitFor(hasStatus("ready"), 10_000, "ready again");
      all.close();
    }, 90_000);
  }

  it("re-attach when the server is back within the grace; end at once when the sandbox folder is deleted", async () => {
    server = await startServer({ AIRLOCK_ORPHAN_GRACE_SEC: "60", AIRLOCK_SHARED_RELAY: "0" });
    const id = await readySession(server);
    const first = relayState(server, id);
    await server.kill();
    await server.restart();
    expect(await prompt(server, id, "echo again")).toContain("again");
    expect(relayState(server, id)).toMatchObject({ pid: first.pid, agentPid: first.agentPid });

    const kept = await readySession(server);
    const other = relayState(server, kept);
    await server.kill();
    const started = Date.now();
    rmSync(join(server.dataDir, "sandboxes", id), { recursive: true, force: true });
    await until("the deleted sandbox's agent and relay to end", () => !alive(first.agentPid) && !alive(first.pid), 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    // The other sandbox is within its grace: untouched.
    expect(alive(other.agentPid) && alive(other.pid)).toBe(true);
    await server.restart();
  }, 90_000);
});
