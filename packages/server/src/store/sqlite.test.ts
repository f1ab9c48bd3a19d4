import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { newId } from "@airlock/protocol";
import { describeIdempotencyConformance, describeStoreConformance, sessionRecord } from "@airlock/testkit";
import { openStore } from "./index.ts";
import { sessionParams } from "./rows.ts";
import { migrations, queries } from "./sql.ts";
import { createSqliteStore } from "./sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const dbPath = () => join(dir, `t${n++}.db`);

let lastPath = "";
describeStoreConformance("sqlite (file)", async () => createSqliteStore({ path: (lastPath = dbPath()) }), {
  sameDatabase: async () => createSqliteStore({ path: lastPath }),
});
describeStoreConformance("sqlite (memory)", async () => createSqliteStore({ path: ":memory:" }));
describeIdempotencyConformance("sqlite (file)", async () => createSqliteStore({ path: dbPath() }));

const chunk = (text: string) => ({ type: "update" as const, data: { sessionUpdate: "agent_message_chunk" as const, content: { type: "text" as const, text } } });

describe("sqlite store on disk", () => {
  it("keeps sessions, events, offsets, turns, interactions and keys across close and reopen", async () => {
    const path = dbPath();
    const a = createSqliteStore({ path });
    await a.migrate();
    const s = sessionRecord({ metadata: { team: "red" } });
    await a.createSession(s, [{ type: "session.status", data: { status: "provisioning" } }]);
    const turn = { id: newId("turn"), sessionId: s.id, status: "running" as const, prompt: [{ type: "text" as const, text: "hi" }], stopReason: null, error: null, createdAt: 1, startedAt: 2, endedAt: null };
    const interaction = { id: newId("interaction"), sessionId: s.id, turnId: turn.id, kind: "permission" as const, rpcId: "r1", request: { a: 1 }, status: "pending" as const, resolution: null, delivered: false, createdAt: 3, resolvedAt: null };
    await a.commit(s.id, { events: [chunk("x"), chunk("y")], journalOffset: 42, session: { status: "running" }, turns: { insert: [turn] }, interactions: { insert: [interaction] } });
    const { key } = await a.createApiKey("t1", "ci");
    // A commit still queued when close() is called is written before the database closes.
    const pending = a.commit(s.id, { events: [chunk("last")], journalOffset: 43 });
    await Promise.all([a.close(), a.close()]);
    expect((await pending).map((r) => r.seq)).toEqual([4]);
    await expect(a.commit(s.id, { events: [] })).rejects.toMatchObject({ code: "unavailable" });

    const b = createSqliteStore({ path });
    await b.migrate();
    expect(await b.getSession(s.id)).toEqual({ ...s, status: "running", lastSeq: 4, journalOffset: 43, updatedAt: expect.any(Number) });
    const events = await b.readEvents(s.id, 0, 10);
    expect(events.map((e) => [e.seq, e.type, e.type === "update" ? JSON.parse(e.data).content.text : null])).toEqual([
      [1, "session.status", null],
      [2, "update", "x"],
      [3, "update", "y"],
      [4, "update", "last"],
    ]);
    expect(await b.listTurns(s.id, "running")).toEqual([turn]);
    expect(await b.listInteractions(s.id, { delivered: false })).toEqual([interaction]);
    expect(await b.findApiKey(key)).toMatchObject({ tenant: "t1" });
    // The log continues where it stopped, and the offset still only moves forward.
    expect((await b.commit(s.id, { events: [chunk("z")], journalOffset: 44 }))[0].seq).toBe(5);
    await expect(b.commit(s.id, { events: [chunk("old")], journalOffset: 44 })).rejects.toMatchObject({ code: "conflict" });
    await b.close();
  });

  it("keeps every resolved commit when the process is killed without closing", () => {
    const path = dbPath();
    // A child process commits, prints what it got, and SIGKILLs itself: no close, no checkpoint.
    const script = `
      import { createSqliteStore } from ${JSON.stringify(fileURLToPath(new URL("./sqlite.ts", import.meta.url)))};
      const store = createSqliteStore({ path: ${JSON.stringify(path)} });
      await store.migrate();
      const s = { id: "ses_killed", tenant: "t", agent: "a", provider: "p", status: "running", statusReason: null,
        options: { permissionMode: "ask", idleTimeoutSec: 1, network: false }, metadata: {}, lastSeq: 0, journalOffset: 0,
        sandbox: null, acpSessionId: null, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 }, idleDeadline: null, createdAt: 1, updatedAt: 1 };
      await store.createSession(s, []);
      for (let i = 1; i <= 20; i++) {
        await store.commit(s.id, { events: Array.from({ length: 100 }, () => ({ type: "error", data: { message: "m" + i } })), journalOffset: i });
      }
      process.stdout.write("committed\\n");
      process.kill(process.pid, "SIGKILL");
    `;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    expect(child.signal).toBe("SIGKILL");
    expect(child.stdout).toBe("committed\n");
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare("SELECT last_seq, journal_offset FROM sessions WHERE id = 'ses_killed'").get()).toEqual({ last_seq: 2000, journal_offset: 20 });
      expect(db.prepare("SELECT count(*) AS n, max(seq) AS top FROM events WHERE session_id = 'ses_killed'").get()).toEqual({ n: 2000, top: 2000 });
    } finally {
      db.close();
    }
  });

  it("stores only the sha256 of API keys", async () => {
    const path = dbPath();
    const store = createSqliteStore({ path });
    await store.migrate();
    const { record, key } = await store.createApiKey("t1", "ci");
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      const row = db.prepare("SELECT * FROM api_keys WHERE id = ?").get(record.id) as Record<string, unknown>;
      expect(row.hash).toBe(createHash("sha256").update(key).digest("hex"));
      expect(Object.values(row)).not.toContain(key);
    } finally {
      db.close();
    }
    expect(readFileSync(path).includes(key.slice(3))).toBe(false);
  });

  it("records the schema version, and refuses a database from a newer Airlock", async () => {
    const path = dbPath();
    const store = createSqliteStore({ path });
    await store.migrate();
    await store.close();
    const latest = migrations[migrations.length - 1].version;
    const db = new Database(path);
    expect(db.prepare("SELECT max(version) AS v FROM schema_version").get()).toEqual({ v: latest });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(latest + 1);
    db.close();
    const newer = createSqliteStore({ path });
    await expect(newer.migrate()).rejects.toThrow(/newer than this Airlock/);
    await newer.close();
  });

  it("upgrades a database made by the first version (schema 1) and keeps every row", async () => {
    const path = dbPath();
    const db = new Database(path);
    db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    for (const statement of migrations[0].install) db.exec(statement);
    db.prepare("INSERT INTO schema_version (version) VALUES (1)").run();
    const s = sessionRecord();
    // The columns of schema 1 only (today's insert names columns later versions added).
    const { ownerNode: _o, leaseEpoch: _e, leaseExpires: _x, ...v1 } = sessionParams(s, 0);
    db.prepare(`INSERT INTO sessions (${Object.keys(v1).map((k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)).join(", ")})
      VALUES (${Object.keys(v1).map((k) => `@${k}`).join(", ")})`).run(v1);
    db.prepare("INSERT INTO turns (id, session_id, status, prompt, created_at) VALUES ('turn_old', ?, 'ended', '[]', 1)").run(s.id);
    db.prepare("INSERT INTO interactions (id, session_id, kind, rpc_id, request, status, created_at) VALUES ('int_old', ?, 'permission', '1', '{}', 'pending', 2)").run(s.id);
    db.close();

    const store = createSqliteStore({ path });
    await store.migrate();
    expect(await store.getSession(s.id)).toMatchObject({ id: s.id, tenant: s.tenant });
    const [turn] = await store.listTurns(s.id);
    expect(turn).toMatchObject({ id: "turn_old", status: "ended" });
    expect(turn.idempotency).toBeUndefined();
    expect((await store.getInteraction(s.id, "int_old"))?.idempotency).toBeUndefined();
    // The new columns work on the old rows.
    await store.commit(s.id, { events: [], interactions: { update: [{ id: "int_old", patch: { status: "resolved", idempotency: { key: "k1", fingerprint: "f" } } }] } });
    expect((await store.findInteractionByIdempotencyKey(s.id, "k1"))?.id).toBe("int_old");
    await store.close();
    const check = new Database(path);
    expect(check.prepare("SELECT version FROM schema_version ORDER BY version").all()).toEqual(migrations.map((m) => ({ version: m.version })));
    check.close();
  });

  it("upgrades a data folder made before the data lifecycle: sessions that ended count as ended since their last write", async () => {
    const path = dbPath();
    const old = new Database(path);
    for (const statement of migrations[0].install) old.exec(statement);
    old.exec("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)");
    const insert = old.prepare(
      `INSERT INTO sessions (id, tenant, agent, provider, status, options, metadata, usage, created_at, updated_at)
       VALUES (?, 't1', 'scripted', 'local', ?, '{}', '{}', '{"inputTokens":0,"outputTokens":0,"costUsd":0}', 1, ?)`,
    );
    insert.run("ses_stopped", "stopped", 1000);
    insert.run("ses_running", "running", 500);
    old.close();
    const store = createSqliteStore({ path });
    await store.migrate();
    expect((await store.listEndedSessions({ endedBefore: 1001, limit: 10 })).map((s) => s.id)).toEqual(["ses_stopped"]);
    expect(await store.listEndedSessions({ endedBefore: 1000, limit: 10 })).toEqual([]);
    expect((await store.getSession("ses_running"))!.status).toBe("running");
    await store.close();
  });

  it("reads events, lists sessions and finds turns and interactions by status through index ranges, never a scan", async () => {
    const store = createSqliteStore({ path: ":memory:" });
    await store.close();
    const db = new Database(":memory:");
    for (const m of migrations) for (const statement of m.install) db.exec(statement);
    const plan = (sql: string, params: unknown) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params as any) as Array<{ detail: string }>).map((r) => r.detail).join("; ");
    expect(plan(queries.readEvents, ["ses_x", 10, 100])).toMatch(/SEARCH events USING PRIMARY KEY \(session_id=\? AND seq>\?\)/);
    const listPlan = plan(queries.listSessions, { tenant: "t", status: null, before: "ses_x", metadata: "{}", limit: 10 });
    expect(listPlan).toMatch(/SEARCH sessions USING INDEX sessions_tenant \(tenant=\? AND id<\?\)/);
    expect(listPlan).not.toMatch(/TEMP B-TREE/);
    // A prompt looks for queued turns, an answer for pending interactions: both by (session, status).
    expect(plan(queries.listTurnsWithStatus, { sessionId: "ses_x", status: "queued" })).toMatch(/USING INDEX turns_session \(session_id=\? AND status=\?\)/);
    expect(plan(queries.listInteractionsWithStatus, { sessionId: "ses_x", status: "pending", delivered: null })).toMatch(
      /USING INDEX interactions_session \(session_id=\? AND status=\?\)/,
    );
    // A prompt or answer with an idempotency key looks for the turn or interaction it already made.
    expect(plan(queries.turnByIdempotencyKey, ["ses_x", "k"])).toMatch(/USING INDEX turns_idempotency \(session_id=\? AND idempotency_key=\?\)/);
    expect(plan(queries.interactionByIdempotencyKey, ["ses_x", "k"])).toMatch(/USING INDEX interactions_idempotency \(session_id=\? AND idempotency_key=\?\)/);
    // The sweeper finds ended and purged sessions by their own small indexes, and removes events by key range.
    expect(plan(queries.endedSessions, { endedBefore: 1, sandboxKept: 0, limit: 5 })).toMatch(/USING INDEX sessions_ended \(ended_at<\?\)/);
    expect(plan(queries.nextPurge, {})).toMatch(/USING INDEX sessions_purged/);
    expect(plan(queries.purgeEvents, { id: "ses_x", limit: 500 })).toMatch(/SEARCH events USING PRIMARY KEY \(session_id=\? AND seq=\?\)/);
    db.close();
  });
});

describe("openStore", () => {
  it("opens SQLite in the data folder when no DATABASE_URL is set", async () => {
    const dataDir = join(dir, "data", "nested");
    const store = await openStore({ dataDir, databaseUrl: null });
    await store.migrate();
    expect(store.kind).toBe("sqlite");
    await store.close();
    expect(readFileSync(join(dataDir, "airlock.db")).subarray(0, 15).toString()).toBe("SQLite format 3");
  });

  it("refuses URLs it does not know (postgres:// opens PostgreSQL: postgres/store.test.ts)", async () => {
    await expect(openStore({ dataDir: dir, databaseUrl: "mysql://u@localhost/airlock" })).rejects.toMatchObject({ code: "bad_request" });
  });
});
