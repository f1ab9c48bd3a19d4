/**
 * Data lifecycle through the public API, on both stores: `DELETE …?purge=true`, and the retention settings
 * (AIRLOCK_SANDBOX_RETENTION_HOURS, AIRLOCK_RETENTION_DAYS) removing sandboxes and sessions in the background.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { StoreV1 } from "@airlock/protocol";
import { openStore } from "../src/store/index.ts";
import { SseReader, type TestServer, hasStatus, pidsMatching, removeDir, startServer, storeKinds, turnEnded } from "./harness.ts";
import { showServerLogOnFailure } from "./server-log.ts";

let server: TestServer | null = null;
showServerLogOnFailure(() => server);
let reader: StoreV1 | null = null;
afterEach(async () => {
  await reader?.close();
  reader = null;
  await server?.stop();
  if (server) removeDir(server.dataDir);
  server = null;
});

async function ready(s: TestServer, body: Record<string, unknown> = {}) {
  const res = await s.api("POST", "/v1/sessions", { agent: "scripted", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const sse = new SseReader(`${s.url}/v1/sessions/${res.body.id}/events`);
  await sse.waitFor(hasStatus("ready"), 20_000, "ready");
  return { id: res.body.id as string, sse };
}

/** Waits until `check` holds (polling), or fails with what it last saw. */
async function eventually<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The server's own database, read directly: what is left of a session's rows. */
async function rowsOf(s: TestServer, id: string) {
  reader ??= await openStore({ dataDir: s.dataDir, databaseUrl: s.databaseUrl });
  const [events, turns] = await Promise.all([reader.readEvents(id, 0, 10), reader.listTurns(id)]);
  return events.length + turns.length;
}

describe.each(storeKinds)("data lifecycle (%s store)", (store) => {
  it("DELETE ?purge=true stops a live session and removes its log and records: from then on it is missing", async () => {
    server = await startServer({}, undefined, { store });
    const { id, sse } = await ready(server);
    const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo keep me" })).body.turnId;
    await sse.waitFor(turnEnded(turn), 20_000, "turn end");
    const other = await ready(server, { metadata: { keep: "yes" } });
    expect(await rowsOf(server, id)).toBeGreaterThan(5);

    const bad = await server.api("DELETE", `/v1/sessions/${id}?purge=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/purge must be true or false/);
    expect((await server.api("GET", `/v1/sessions/${id}`)).body.status).toBe("ready");

    const res = await server.api("DELETE", `/v1/sessions/${id}?purge=true`);
    expect([res.status, res.body]).toEqual([202, { id, status: "stopped", purged: true }]);
    await sse.done; // the stream ends: the session stopped, then vanished
    expect(sse.events.some((e) => e.type === "session.status" && (e.data as any).status === "stopped")).toBe(true);
    for (const [method, path] of [
      ["GET", `/v1/sessions/${id}`],
      ["GET", `/v1/sessions/${id}/events`],
      ["POST", `/v1/sessions/${id}/prompt`],
      ["DELETE", `/v1/sessions/${id}?purge=true`],
      ["DELETE", `/v1/sessions/${id}`],
    ]) {
      expect((await server.api(method, path, method === "POST" ? { text: "hi" } : undefined)).status, `${method} ${path}`).toBe(404);
    }
    expect((await server.api("GET", "/v1/sessions")).body.sessions.map((s: any) => s.id)).toEqual([other.id]);
    await eventually("the rows to go", () => rowsOf(server!, id), (n) => n === 0);
    expect(pidsMatching(id)).toEqual([]);
    expect(existsSync(join(server.dataDir, "sandboxes", id))).toBe(false);
    // The other session is untouched and still works.
    const next = (await server.api("POST", `/v1/sessions/${other.id}/prompt`, { text: "echo still here" })).body.turnId;
    await other.sse.waitFor(turnEnded(next), 20_000, "other session's turn");
    sse.close();
    other.sse.close();
  });

  it("removes kept sandboxes after AIRLOCK_SANDBOX_RETENTION_HOURS and whole sessions after AIRLOCK_RETENTION_DAYS; live ones stay", async () => {
    // 1.4 s for sandboxes, 8.6 s for sessions, looked at every 0.2 s.
    // One crash fails a session here (AIRLOCK_MAX_AGENT_CRASHES=1): the failed session whose sandbox is kept.
    server = await startServer({ AIRLOCK_SANDBOX_RETENTION_HOURS: "0.0004", AIRLOCK_RETENTION_DAYS: "0.0001", AIRLOCK_SWEEP_INTERVAL_SEC: "0.2", AIRLOCK_MAX_AGENT_CRASHES: "1" }, undefined, { store });
    const s = server;
    const idle = await ready(s, { idleTimeoutSec: 1 });
    const crashed = await ready(s);
    const live = await ready(s, { idleTimeoutSec: 600 });
    await s.api("POST", `/v1/sessions/${crashed.id}/prompt`, { text: "crash" });
    await crashed.sse.waitFor(hasStatus("failed"), 20_000, "failed");
    await idle.sse.waitFor(hasStatus("stopped"), 20_000, "idle stop");

    // First the sandboxes go; the sessions and their logs stay readable, and now final.
    for (const { id } of [idle, crashed]) {
      // A failed session is final at once; its sandbox goes later (hasWorkspace is set once it is destroyed).
      const view = await eventually(`${id}'s sandbox to go`, async () => (await s.api("GET", `/v1/sessions/${id}`)).body, (v) => v.hasWorkspace === false);
      expect(view.final).toBe(true);
      expect(view.status).toBe(id === idle.id ? "stopped" : "failed");
      expect(existsSync(join(s.dataDir, "sandboxes", id))).toBe(false);
      expect((await s.api("GET", `/v1/sessions/${id}/events`)).body.events.length).toBeGreaterThan(2);
    }
    // Then the sessions.
    for (const { id } of [idle, crashed]) {
      await eventually(`${id} to be purged`, async () => (await s.api("GET", `/v1/sessions/${id}`)).status, (status) => status === 404);
      await eventually(`${id}'s rows to go`, () => rowsOf(s, id), (n) => n === 0);
    }
    const view = (await s.api("GET", `/v1/sessions/${live.id}`)).body;
    expect([view.status, view.final]).toEqual(["ready", false]);
    expect(existsSync(join(s.dataDir, "sandboxes", live.id))).toBe(true);
    for (const { sse } of [idle, crashed, live]) sse.close();
  });
});
