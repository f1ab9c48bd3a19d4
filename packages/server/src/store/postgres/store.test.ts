import { createHash } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "@airlock/protocol";
import { type TestDatabase, createTestDatabase, describeIdempotencyConformance, describeStoreConformance, sessionRecord } from "@airlock/testkit";
import { openStore } from "../index.ts";
import { migrate } from "./migrate.ts";
import { migrations, queries } from "./sql.ts";
import { createPostgresStore } from "./store.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("store");
});
afterAll(() => db?.drop());

describeStoreConformance(
  "postgres",
  async () => {
    await db.reset();
    return createPostgresStore({ url: db.url });
  },
  { sameDatabase: async () => createPostgresStore({ url: db.url }) },
);
// Every batch in a transaction of its own: the path a group takes again, batch by batch, when one of it fails.
describeStoreConformance("postgres (no group commit)", async () => {
  await db.reset();
  return createPostgresStore({ url: db.url, commit: { maxBatches: 1 } });
});

describeIdempotencyConformance("postgres", async () => {
  await db.reset();
  return createPostgresStore({ url: db.url });
});
describeIdempotencyConformance("postgres (no group commit)", async () => {
  await db.reset();
  return createPostgresStore({ url: db.url, commit: { maxBatches: 1 } });
});

const chunk = (text: string) => ({ type: "update" as const, data: { sessionUpdate: "agent_message_chunk" as const, content: { type: "text" as const, text } } });

async function sql<T extends Record<string, any> = Record<string, any>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe("postgres store", () => {
  it("migrates once when several nodes start at once, and refuses a database from a newer Airlock", async () => {
    await db.reset();
    const nodes = Array.from({ length: 5 }, () => createPostgresStore({ url: db.url, poolSize: 2 }));
    await Promise.all(nodes.map((n) => n.migrate()));
    const versions = (await sql<{ version: number }>("SELECT version FROM schema_version ORDER BY version")).map((r) => r.version);
    expect(versions).toEqual(migrations.map((m) => m.version).sort((a, b) => a - b));
    const s = sessionRecord();
    await nodes[0].createSession(s, [chunk("one")]);
    expect(await nodes[4].getSession(s.id)).toMatchObject({ id: s.id, lastSeq: 1 });
    await Promise.all(nodes.map((n) => n.close()));

    await sql("INSERT INTO schema_version (version, applied_at) VALUES (999, 0)");
    const old = createPostgresStore({ url: db.url });
    await expect(old.migrate()).rejects.toThrow(/schema version 999, newer than this Airlock/);
    await old.close();
  });

  it("applies a known version missing below the newest recorded one (versions merged out of order)", async () => {
    await db.reset();
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      // A build without version 7 (the data lifecycle, which no later version builds on) ran first; then one with it.
      await migrate(pool, migrations.filter((m) => m.version !== 7));
      await migrate(pool, migrations.map((m) => (m.version === 7 ? { ...m, install: [...m.install, "CREATE TABLE added_later (x integer)"] } : m)));
      expect((await pool.query("SELECT version FROM schema_version ORDER BY version")).rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version).sort((a, b) => a - b));
      expect((await pool.query("SELECT count(*)::int AS n FROM added_later")).rows).toEqual([{ n: 0 }]);
    } finally {
      await pool.end();
    }
  });

  it("keeps a session's count of agent crashes (version 8)", async () => {
    await db.reset();
    const store = createPostgresStore({ url: db.url });
    await store.migrate();
    const s = sessionRecord();
    await store.createSession(s, []);
    expect((await store.getSession(s.id))?.agentCrashes).toBe(0);
    await store.commit(s.id, { events: [], session: { status: "stopped", agentCrashes: 2 } });
    expect(await store.getSession(s.id)).toMatchObject({ status: "stopped", agentCrashes: 2 });
    await store.close();
  });

  it("adds idempotency keys (version 2) to a database made without them, keeping its turns and interactions", async () => {
    await db.reset();
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const s = sessionRecord();
    try {
      await migrate(pool, migrations.filter((m) => m.version !== 2));
      const before = createPostgresStore({ url: db.url });
      await before.createSession(s, []);
      await pool.query("INSERT INTO turns (id, session_id, status, prompt, created_at) VALUES ('turn_old', $1, 'ended', '[]', 1)", [s.id]);
      await pool.query("INSERT INTO interactions (id, session_id, kind, rpc_id, request, status, created_at) VALUES ('int_old', $1, 'permission', '1', '{}', 'pending', 2)", [s.id]);
      await before.close();
      await migrate(pool, migrations);
    } finally {
      await pool.end();
    }
    const store = createPostgresStore({ url: db.url });
    const [turn] = await store.listTurns(s.id);
    expect(turn).toMatchObject({ id: "turn_old", status: "ended" });
    expect(turn.idempotency).toBeUndefined();
    await store.commit(s.id, { events: [], interactions: { update: [{ id: "int_old", patch: { status: "resolved", idempotency: { key: "k1", fingerprint: "f" } } }] } });
    expect((await store.findInteractionByIdempotencyKey(s.id, "k1"))?.id).toBe("int_old");
    await store.close();
  });

  it("says plainly when DATABASE_URL cannot be reached or names no database, without the password", async () => {
    const refused = createPostgresStore({ url: "postgres://airlock:s3cret@127.0.0.1:1/airlock" });
    const error = await refused.migrate().catch((e) => e);
    expect(error).toMatchObject({ code: "unavailable", message: expect.stringMatching(/cannot reach PostgreSQL at 127\.0\.0\.1:1\/airlock \(DATABASE_URL\)/) });
    expect(error.message).not.toContain("s3cret");
    await expect(refused.getSession("ses_0000000000000000000000")).rejects.toMatchObject({ code: "unavailable" });
    // A group of commits fails together, each with the same error (not retried one by one against a dead server).
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => refused.commit(`ses_${i}`, { events: [chunk("x")] })));
    expect(outcomes.map((o) => (o.status === "rejected" ? o.reason.code : o.status))).toEqual(Array(20).fill("unavailable"));
    await refused.close();
    const url = new URL(db.url);
    url.pathname = "/airlock_no_such_database";
    const missing = createPostgresStore({ url: url.toString() });
    await expect(missing.migrate()).rejects.toMatchObject({ code: "unavailable", message: expect.stringMatching(/does not exist.*DATABASE_URL/) });
    await missing.close();
  });

  it("replaces connections the server dropped: the next calls work, and the loss is reported", async () => {
    await db.reset();
    const errors: unknown[] = [];
    const store = createPostgresStore({ url: db.url, onError: (e) => errors.push(e) });
    await store.migrate();
    const s = sessionRecord();
    await store.createSession(s, []);
    await Promise.all([store.getSession(s.id), store.readEvents(s.id, 0, 1), store.listTurns(s.id)]); // a few pooled connections
    const [{ n }] = await sql<{ n: number }>(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    expect(n).toBeGreaterThan(0);
    // Each dropped connection is reported (and leaves the pool) once its client reads the server's goodbye.
    const until = Date.now() + 5000;
    while (errors.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(errors.length).toBe(n);
    expect((await store.commit(s.id, { events: [chunk("after")] }))[0].seq).toBe(1);
    expect(await store.getSession(s.id)).toMatchObject({ lastSeq: 1 });
    await store.close();
  });

  it("stores what an agent wrote as written, and never fails a commit over U+0000 or a lone surrogate", async () => {
    await db.reset();
    const store = createPostgresStore({ url: db.url });
    await store.migrate();
    const s = sessionRecord();
    await store.createSession(s, []);
    const odd = "nul \u0000, lone \ud800, escaped \\u0000, emoji 😀";
    const interaction = { id: newId("interaction"), sessionId: s.id, turnId: null, kind: "permission" as const, rpcId: odd, request: { title: odd }, status: "pending" as const, resolution: null, delivered: false, createdAt: 1, resolvedAt: null };
    const turn = { id: newId("turn"), sessionId: s.id, status: "running" as const, prompt: [{ type: "text" as const, text: odd }], stopReason: null, error: odd, createdAt: 1, startedAt: 1, endedAt: null };
    const rows = await store.commit(s.id, { events: [{ type: "error", data: { message: odd } }], interactions: { insert: [interaction] }, turns: { insert: [turn] } });
    expect(JSON.parse((await store.readEvents(s.id, 0, 1))[0].data).message).toBe(odd);
    expect(rows[0].data).toBe(JSON.stringify({ message: odd }));
    expect(await store.getInteraction(s.id, interaction.id)).toEqual(interaction);
    expect((await store.getTurn(s.id, turn.id))!.prompt).toEqual(turn.prompt);
    // Free text and patches become U+FFFD where PostgreSQL cannot hold them; the commit goes through.
    await store.commit(s.id, {
      events: [],
      session: { status: "failed", statusReason: odd },
      turns: { update: [{ id: turn.id, patch: { status: "ended", error: odd } }] },
      interactions: { update: [{ id: interaction.id, patch: { status: "resolved", resolution: { answer: odd } } }] },
    });
    expect((await store.getSession(s.id))!.statusReason).toBe("nul \ufffd, lone \ufffd, escaped \\u0000, emoji 😀");
    expect((await store.getTurn(s.id, turn.id))!.error).toBe("nul \ufffd, lone \ufffd, escaped \\u0000, emoji 😀");
    expect((await store.getInteraction(s.id, interaction.id))!.resolution).toEqual({ answer: odd });
    // Metadata is user input filtered with jsonb: refused as bad input, and nothing is created.
    const bad = sessionRecord({ metadata: { k: "a\u0000b" } });
    await expect(store.createSession(bad, [chunk("x")])).rejects.toMatchObject({ code: "bad_request" });
    expect(await store.getSession(bad.id)).toBeNull();
    await store.close();
  });

  it("reads a log, lists sessions and finds turns and interactions through their indexes", async () => {
    await db.reset();
    const store = createPostgresStore({ url: db.url });
    await store.migrate();
    await store.close();
    const plan = async (name: keyof typeof queries, values: unknown[]) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        // Tables this small would be scanned; with scans priced out, the plan shows which index fits.
        await client.query("SET enable_seqscan = off");
        await client.query(`PREPARE p AS ${queries[name].text}`);
        const args = values.length ? ` (${values.map((v) => (v === null ? "NULL" : `'${v}'`)).join(", ")})` : "";
        const rows = (await client.query(`EXPLAIN EXECUTE p${args}`)).rows;
        return rows.map((r) => r["QUERY PLAN"]).join("\n");
      } finally {
        await client.end();
      }
    };
    expect(await plan("readEvents", ["ses_x", 10, 100])).toMatch(/Index Scan using events_pkey on events[\s\S]*Index Cond: \(\(session_id = 'ses_x'::text\) AND \(seq > '10'::bigint\)\)/);
    const list = await plan("listSessions", ["t", "ses_x", null, "{}", 10]);
    expect(list).toMatch(/Index Scan using sessions_tenant on sessions[\s\S]*Index Cond: \(\(tenant = 't'::text\) AND \(id < 'ses_x'::text\)\)/);
    expect(list).not.toMatch(/Sort/);
    expect(await plan("listTurnsWithStatus", ["ses_x", "queued"])).toMatch(/turns_session/);
    expect(await plan("listInteractionsWithStatus", ["ses_x", "pending", null])).toMatch(/interactions_session/);
    expect(await plan("endedSessions", [1, false, 5])).toMatch(/sessions_ended/);
    expect(await plan("nextPurge", [])).toMatch(/sessions_purged/);
    expect(await plan("purgeEvents", ["ses_x", 500])).not.toMatch(/Seq Scan/);
  });

  it("stores only the sha256 of API keys", async () => {
    await db.reset();
    const store = createPostgresStore({ url: db.url });
    await store.migrate();
    const { record, key } = await store.createApiKey("t1", "ci");
    await store.close();
    const [row] = await sql("SELECT * FROM api_keys WHERE id = $1", [record.id]);
    expect(row.hash).toBe(createHash("sha256").update(key).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(key.slice(3));
  });

  it("is what openStore gives for a postgres:// DATABASE_URL", async () => {
    await db.reset();
    for (const url of [db.url, db.url.replace(/^postgres:/, "postgresql:")]) {
      const store = await openStore({ dataDir: "/nonexistent", databaseUrl: url });
      expect(store.kind).toBe("postgres");
      await store.migrate();
      await store.close();
    }
  });
});
