/**
 * @module postgres/sql — every statement of the PostgreSQL store as plain text: the schema as migration records,
 * then the queries. Parameters are named (`@sessionId`) and compiled once to PostgreSQL's `$1…`; the store binds
 * values by name and never builds SQL.
 *
 * Types: ids are `text COLLATE "C"` so they sort byte by byte as in SQLite (ids sort by time, and the list
 * cursor relies on it); times and counters are `bigint` (ms since the epoch); our own JSON (options, metadata,
 * sandbox, usage) is `jsonb`, which metadata filters (`@>`) and usage sums work on. What an agent or a user wrote
 * (prompts, permission requests, answers, JSON-RPC ids) is `json`: kept as written and, unlike `jsonb`, able to
 * hold any string, `\u0000` included — an agent must never be able to make a commit fail. Event data is `text`:
 * clients get it byte for byte as stored, and the hot path spends no time parsing it.
 *
 * Selects name their columns (never `*`): a node that prepared a statement keeps working while a newer node
 * adds columns (a prepared `SELECT *` would fail with "cached plan must not change result type").
 */
import type { Migration } from "../sql.ts";
import { clusterMigration, clusterStatements, dbNowMs } from "./cluster-sql.ts";
import { webhookMigration } from "./webhook-sql.ts";

export const migrations: Migration[] = [
  {
    version: 1,
    install: [
      // fillfactor: every commit updates its session's row (last_seq, journal_offset, updated_at, none of them
      // indexed): room in the page keeps those updates HOT, without new index entries.
      `CREATE TABLE sessions (
        id             text COLLATE "C" PRIMARY KEY,
        tenant         text NOT NULL,
        agent          text NOT NULL,
        provider       text NOT NULL,
        status         text NOT NULL,
        status_reason  text,
        options        jsonb NOT NULL,
        metadata       jsonb NOT NULL,
        last_seq       bigint NOT NULL DEFAULT 0,
        journal_offset bigint NOT NULL DEFAULT 0,
        sandbox        jsonb,
        acp_session_id text,
        usage          jsonb NOT NULL,
        idle_deadline  bigint,
        created_at     bigint NOT NULL,
        updated_at     bigint NOT NULL
      ) WITH (fillfactor = 70)`,
      `CREATE INDEX sessions_tenant ON sessions (tenant, id DESC)`,
      `CREATE INDEX sessions_live ON sessions (tenant) WHERE status NOT IN ('stopped', 'failed')`,
      // No foreign key to sessions, unlike SQLite's: its check, a lookup and a row lock per inserted event, cost
      // a third of a burst's throughput (measured: 500-event inserts, ~45k → ~65k events/s). Nothing needs it:
      // every insert runs under its session's row lock, taken in the same transaction, and a purge removes a
      // session's events before its row.
      `CREATE TABLE events (
        session_id text COLLATE "C" NOT NULL,
        seq        bigint NOT NULL,
        at         bigint NOT NULL,
        type       text NOT NULL,
        turn_id    text,
        data       text NOT NULL,
        PRIMARY KEY (session_id, seq)
      )`,
      // ord: the order of insertion, which breaks ties between turns created in the same millisecond.
      `CREATE TABLE turns (
        id          text COLLATE "C" PRIMARY KEY,
        session_id  text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        ord         bigint GENERATED ALWAYS AS IDENTITY,
        status      text NOT NULL,
        prompt      json NOT NULL,
        stop_reason text,
        error       text,
        created_at  bigint NOT NULL,
        started_at  bigint,
        ended_at    bigint
      )`,
      `CREATE INDEX turns_session ON turns (session_id, status)`,
      `CREATE TABLE interactions (
        id          text COLLATE "C" PRIMARY KEY,
        session_id  text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        ord         bigint GENERATED ALWAYS AS IDENTITY,
        turn_id     text,
        kind        text NOT NULL,
        rpc_id      json NOT NULL,
        request     json NOT NULL,
        status      text NOT NULL,
        resolution  json,
        delivered   boolean NOT NULL DEFAULT false,
        created_at  bigint NOT NULL,
        resolved_at bigint
      )`,
      `CREATE INDEX interactions_session ON interactions (session_id, status)`,
      `CREATE TABLE api_keys (
        id         text COLLATE "C" PRIMARY KEY,
        tenant     text NOT NULL,
        name       text NOT NULL,
        hash       text NOT NULL UNIQUE,
        created_at bigint NOT NULL,
        revoked_at bigint
      )`,
    ],
  },
  {
    // Idempotent prompts and answers (the same as SQLite's version 2): the request's Idempotency-Key and a hash of
    // its body, stored with the turn it queued / the resolution it made; unique per session, so a retry racing
    // the first request fails its insert instead of queuing a second turn.
    version: 2,
    install: [
      `ALTER TABLE turns ADD COLUMN idempotency_key text, ADD COLUMN idempotency_fingerprint text`,
      `CREATE UNIQUE INDEX turns_idempotency ON turns (session_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
      `ALTER TABLE interactions ADD COLUMN idempotency_key text, ADD COLUMN idempotency_fingerprint text`,
      `CREATE UNIQUE INDEX interactions_idempotency ON interactions (session_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    ],
  },
  {
    // Tenant secrets (the same as SQLite's version 3). `value` is sealed by the server (AES-256-GCM) before it
    // reaches the store: the database never holds a secret in clear.
    version: 3,
    install: [
      `CREATE TABLE secrets (
        tenant     text COLLATE "C" NOT NULL,
        name       text COLLATE "C" NOT NULL,
        value      text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (tenant, name)
      )`,
    ],
  },
  // Webhooks: their delivery cursors and log (webhook-sql.ts; the same as SQLite's version 4).
  webhookMigration,
  // Several nodes: leases, heartbeats, commands (cluster-sql.ts; the same as SQLite's version 6).
  clusterMigration,
  {
    // Data lifecycle (the same as SQLite's version 7): when a session stopped running, and sessions being purged.
    version: 7,
    install: [
      `ALTER TABLE sessions ADD COLUMN ended_at bigint, ADD COLUMN purged_at bigint`,
      `UPDATE sessions SET ended_at = updated_at WHERE status IN ('stopped', 'failed', 'paused')`,
      `CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL`,
      `CREATE INDEX sessions_purged ON sessions (purged_at) WHERE purged_at IS NOT NULL`,
      // A trigger rather than a column in every status-changing statement: whatever path changes a status (and
      // later ones will), ended_at follows — set when the session stops running (stopped, failed, paused), kept
      // while it goes from one of those to another, cleared when it runs again.
      `CREATE FUNCTION airlock_session_ended() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status NOT IN ('stopped', 'failed', 'paused') THEN
          NEW.ended_at := NULL;
        ELSIF TG_OP = 'INSERT' OR OLD.status NOT IN ('stopped', 'failed', 'paused') THEN
          NEW.ended_at := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
        END IF;
        RETURN NEW;
      END $$`,
      `CREATE TRIGGER sessions_ended_insert BEFORE INSERT ON sessions
        FOR EACH ROW EXECUTE FUNCTION airlock_session_ended()`,
      `CREATE TRIGGER sessions_ended_update BEFORE UPDATE OF status ON sessions
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION airlock_session_ended()`,
    ],
  },
  {
    // Bounds the agent's restarts after crashes (a streak of crashes without a completed turn fails the session).
    version: 8,
    install: [`ALTER TABLE sessions ADD COLUMN agent_crashes integer NOT NULL DEFAULT 0`],
  },
  {
    // The same as SQLite's version 9.
    version: 9,
    install: [
      `CREATE TABLE session_seeds (
        session_id text COLLATE "C" PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        seed       text NOT NULL
      )`,
    ],
  },
];

export interface Statement {
  /** Also the name it is prepared under, once per connection. */
  name: string;
  /** With `$1…` in place of the names. */
  text: string;
  /** Parameter names in `$n` order. */
  params: string[];
}

/** `@name` → `$n` (the same name, the same `$n`). `@>` and `<@`, jsonb's operators, are not names. */
export function compile(name: string, sql: string): Statement {
  const params: string[] = [];
  const text = sql.replace(/@([A-Za-z_]\w*)/g, (_, p: string) => {
    let i = params.indexOf(p);
    if (i < 0) i = params.push(p) - 1;
    return `$${i + 1}`;
  });
  return { name, text, params };
}

/** Values for `statement` from an object of named values; a name missing from it is a bug, not a NULL. */
export function bind(statement: Statement, values: Record<string, unknown>): unknown[] {
  return statement.params.map((p) => {
    if (!(p in values)) throw new Error(`statement ${statement.name}: no value for @${p}`);
    const v = values[p];
    // PostgreSQL's text cannot hold U+0000 (SQLite's can): in free text (a failure reason, an error) it
    // becomes U+FFFD rather than failing the commit. JSON never carries it raw (JSON.stringify escapes it).
    return typeof v === "string" && v.includes("\0") ? v.replaceAll("\0", "\uFFFD") : v;
  });
}

/**
 * JSON text that `jsonb` accepts: `jsonb` refuses `\u0000` and lone surrogates (JSON.stringify writes both as
 * escapes, e.g. from a failure reason cut from an agent's stderr), so they become U+FFFD — the commit goes
 * through. An escaped backslash before `u0000` is text, not an escape, and stays.
 */
export function jsonbText(value: unknown): string {
  return JSON.stringify(value).replace(/(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g, "$1\\ufffd");
}

export const advisoryLockKey = {
  /** Held (transaction-scoped) while migrating, so nodes starting at once migrate one after the other. */
  migrate: 0x61726c6d, // "arlm"
};

export const migration = {
  createVersionTable: `CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at bigint NOT NULL)`,
  lock: `SELECT pg_advisory_xact_lock(${advisoryLockKey.migrate})`,
  versions: `SELECT version FROM schema_version ORDER BY version`,
  recordVersion: `INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)`,
};

const sessionColumns = `id, tenant, agent, provider, status, status_reason, options::text AS options, metadata::text AS metadata,
  last_seq, journal_offset, sandbox::text AS sandbox, acp_session_id, usage::text AS usage, idle_deadline, created_at, updated_at,
  agent_crashes, owner_node, lease_epoch, lease_expires`;
const turnColumns = `id, session_id, status, prompt::text AS prompt, stop_reason, error, created_at, started_at, ended_at,
  idempotency_key, idempotency_fingerprint`;
const interactionColumns = `id, session_id, turn_id, kind, rpc_id::text AS rpc_id, request::text AS request, status,
  resolution::text AS resolution, delivered, created_at, resolved_at, idempotency_key, idempotency_fingerprint`;
const live = `status NOT IN ('stopped', 'failed')`;
/** Purged sessions are gone for every reader at once; their rows go in small batches afterwards. */
const visible = `purged_at IS NULL`;

const statements = {
  // Sessions
  insertSession: `
    INSERT INTO sessions (id, tenant, agent, provider, status, status_reason, options, metadata, last_seq,
                          journal_offset, sandbox, acp_session_id, usage, idle_deadline, created_at, updated_at,
                          owner_node, lease_epoch, lease_expires)
    VALUES (@id, @tenant, @agent, @provider, @status, @statusReason, @options::jsonb, @metadata::jsonb, @lastSeq,
            @journalOffset, @sandbox::jsonb, @acpSessionId, @usage::jsonb, @idleDeadline, @createdAt, @updatedAt,
            @ownerNode, @leaseEpoch, @leaseExpires)`,
  getSession: `SELECT ${sessionColumns} FROM sessions WHERE id = @id AND ${visible}`,
  insertSeed: `INSERT INTO session_seeds (session_id, seed) VALUES (@id, @seed)`,
  getSeed: `SELECT seed FROM session_seeds WHERE session_id = @id`,
  deleteSeed: `DELETE FROM session_seeds WHERE session_id = @id`,
  // Newest first, through the (tenant, id DESC) index. Every metadata key/value asked for must be present.
  listSessions: `
    SELECT ${sessionColumns} FROM sessions
    WHERE tenant = @tenant
      AND (@before::text IS NULL OR id < @before)
      AND (@status::text IS NULL OR status = @status)
      AND metadata @> @metadata::jsonb
      AND ${visible}
    ORDER BY id DESC
    LIMIT @limit`,
  liveSessions: `SELECT ${sessionColumns} FROM sessions WHERE ${live} ORDER BY id`,
  countLiveSessions: `SELECT count(*) AS n FROM sessions WHERE tenant = @tenant AND ${live}`,

  // Commit: the heads of a group's sessions, locked in id order (two groups locking the same sessions cannot
  // deadlock), then everything else, then the heads advanced. See commit.ts.
  lockHeads: `
    SELECT id, last_seq, journal_offset, lease_epoch FROM sessions
    WHERE id = ANY (@ids::text[]) AND ${visible}
    ORDER BY id
    FOR UPDATE`,
  interactionStatuses: `SELECT id, session_id, status FROM interactions WHERE id = ANY (@ids::text[])`,
  // A bounded number of rows per statement (the caller splits larger batches), whatever the batch size.
  insertEvents: `
    INSERT INTO events (session_id, seq, at, type, turn_id, data)
    SELECT * FROM unnest(@sessionIds::text[], @seqs::bigint[], @ats::bigint[], @types::text[], @turnIds::text[], @data::text[])`,
  // A commit by the owner (ttl > 0) extends its lease: see CommitBatch.leaseTtlMs.
  advanceSessions: `
    UPDATE sessions AS s SET last_seq = h.last_seq, journal_offset = h.journal_offset, updated_at = @at,
      lease_expires = CASE WHEN h.ttl > 0
        THEN greatest(s.lease_expires, ${dbNowMs} + h.ttl)
        ELSE s.lease_expires END
    FROM unnest(@ids::text[], @lastSeqs::bigint[], @offsets::bigint[], @ttls::bigint[]) AS h (id, last_seq, journal_offset, ttl)
    WHERE s.id = h.id`,
  // A patch is one JSON object: an absent key keeps the column, a JSON null clears it.
  patchSession: `
    UPDATE sessions SET
      status         = CASE WHEN p ? 'status' THEN p ->> 'status' ELSE status END,
      status_reason  = CASE WHEN p ? 'statusReason' THEN p ->> 'statusReason' ELSE status_reason END,
      sandbox        = CASE WHEN p ? 'sandbox' THEN nullif(p -> 'sandbox', 'null') ELSE sandbox END,
      acp_session_id = CASE WHEN p ? 'acpSessionId' THEN p ->> 'acpSessionId' ELSE acp_session_id END,
      usage          = CASE WHEN p ? 'usage' THEN p -> 'usage' ELSE usage END,
      idle_deadline  = CASE WHEN p ? 'idleDeadline' THEN (p ->> 'idleDeadline')::bigint ELSE idle_deadline END,
      options        = CASE WHEN p ? 'options' THEN p -> 'options' ELSE options END,
      agent_crashes  = CASE WHEN p ? 'agentCrashes' THEN (p ->> 'agentCrashes')::integer ELSE agent_crashes END
    FROM (SELECT @patch::jsonb AS p) AS patch
    WHERE id = @id`,
  // In SQL, so that concurrent additions never lose one to a read-modify-write race. float8 adds as
  // JavaScript (and SQLite) do.
  addUsage: `
    UPDATE sessions SET usage = jsonb_build_object(
      'inputTokens',  (usage ->> 'inputTokens')::float8 + @inputTokens::float8,
      'outputTokens', (usage ->> 'outputTokens')::float8 + @outputTokens::float8,
      'costUsd',      (usage ->> 'costUsd')::float8 + @costUsd::float8)
    WHERE id = @id`,

  // Events: always a range of the primary key.
  readEvents: `
    SELECT session_id AS "sessionId", seq, at, type, turn_id AS "turnId", data
    FROM events
    WHERE session_id = @sessionId AND seq > @after
    ORDER BY seq
    LIMIT @limit`,
  // The lateral read runs once per cursor (a nested loop: it has a LIMIT of its own), so each session's rows come
  // out together and in seq order.
  readEventsOf: `
    SELECT e.*
    FROM unnest(@ids::text[], @afters::bigint[]) AS c (id, after)
    CROSS JOIN LATERAL (
      SELECT session_id AS "sessionId", seq, at, type, turn_id AS "turnId", data
      FROM events
      WHERE session_id = c.id AND seq > c.after
      ORDER BY seq
      LIMIT @limit
    ) AS e`,

  // Turns, in creation order (insertion order breaks ties).
  insertTurn: `
    INSERT INTO turns (id, session_id, status, prompt, stop_reason, error, created_at, started_at, ended_at,
                       idempotency_key, idempotency_fingerprint)
    VALUES (@id, @sessionId, @status, @prompt::json, @stopReason, @error, @createdAt, @startedAt, @endedAt,
            @idempotencyKey, @idempotencyFingerprint)`,
  patchTurn: `
    UPDATE turns SET
      status      = CASE WHEN p ? 'status' THEN p ->> 'status' ELSE status END,
      stop_reason = CASE WHEN p ? 'stopReason' THEN p ->> 'stopReason' ELSE stop_reason END,
      error       = CASE WHEN p ? 'error' THEN p ->> 'error' ELSE error END,
      started_at  = CASE WHEN p ? 'startedAt' THEN (p ->> 'startedAt')::bigint ELSE started_at END,
      ended_at    = CASE WHEN p ? 'endedAt' THEN (p ->> 'endedAt')::bigint ELSE ended_at END
    FROM (SELECT @patch::jsonb AS p) AS patch
    WHERE id = @id AND session_id = @sessionId`,
  listTurns: `SELECT ${turnColumns} FROM turns WHERE session_id = @sessionId ORDER BY created_at, ord`,
  listTurnsWithStatus: `SELECT ${turnColumns} FROM turns WHERE session_id = @sessionId AND status = @status ORDER BY created_at, ord`,
  getTurn: `SELECT ${turnColumns} FROM turns WHERE id = @id AND session_id = @sessionId`,
  turnByIdempotencyKey: `SELECT ${turnColumns} FROM turns WHERE session_id = @sessionId AND idempotency_key = @key`,

  // Interactions, in creation order.
  insertInteraction: `
    INSERT INTO interactions (id, session_id, turn_id, kind, rpc_id, request, status, resolution, delivered,
                              created_at, resolved_at, idempotency_key, idempotency_fingerprint)
    VALUES (@id, @sessionId, @turnId, @kind, @rpcId::json, @request::json, @status, @resolution::json,
            @delivered::int::boolean, @createdAt, @resolvedAt, @idempotencyKey, @idempotencyFingerprint)`,
  // The patch is bound as jsonb to test its keys; the resolution is taken from it as text, so the json column
  // keeps it as written.
  patchInteraction: `
    UPDATE interactions SET
      status      = CASE WHEN p ? 'status' THEN p ->> 'status' ELSE status END,
      resolution  = CASE WHEN p ? 'resolution' THEN (@resolution::text)::json ELSE resolution END,
      delivered   = CASE WHEN p ? 'delivered' THEN (p ->> 'delivered')::boolean ELSE delivered END,
      resolved_at = CASE WHEN p ? 'resolvedAt' THEN (p ->> 'resolvedAt')::bigint ELSE resolved_at END,
      idempotency_key = CASE WHEN p ? 'idempotency' THEN p -> 'idempotency' ->> 'key' ELSE idempotency_key END,
      idempotency_fingerprint =
        CASE WHEN p ? 'idempotency' THEN p -> 'idempotency' ->> 'fingerprint' ELSE idempotency_fingerprint END
    FROM (SELECT @patch::jsonb AS p) AS patch
    WHERE id = @id AND session_id = @sessionId`,
  listInteractions: `
    SELECT ${interactionColumns} FROM interactions
    WHERE session_id = @sessionId AND (@delivered::boolean IS NULL OR delivered = @delivered)
    ORDER BY created_at, ord`,
  listInteractionsWithStatus: `
    SELECT ${interactionColumns} FROM interactions
    WHERE session_id = @sessionId AND status = @status AND (@delivered::boolean IS NULL OR delivered = @delivered)
    ORDER BY created_at, ord`,
  getInteraction: `SELECT ${interactionColumns} FROM interactions WHERE id = @id AND session_id = @sessionId`,
  interactionByIdempotencyKey: `SELECT ${interactionColumns} FROM interactions WHERE session_id = @sessionId AND idempotency_key = @key`,

  // API keys: looked up by hash; revoked keys are kept (for the record) but never found or listed.
  insertApiKey: `INSERT INTO api_keys (id, tenant, name, hash, created_at) VALUES (@id, @tenant, @name, @hash, @createdAt)`,
  findApiKey: `SELECT id, tenant, name, created_at FROM api_keys WHERE hash = @hash AND revoked_at IS NULL`,
  listApiKeys: `
    SELECT id, tenant, name, created_at FROM api_keys
    WHERE revoked_at IS NULL AND (@tenant::text IS NULL OR tenant = @tenant)
    ORDER BY created_at, id`,
  revokeApiKey: `UPDATE api_keys SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL`,

  // Tenant secrets: a replace keeps the first created_at.
  putSecret: `
    INSERT INTO secrets (tenant, name, value, created_at, updated_at) VALUES (@tenant, @name, @value, @now, @now)
    ON CONFLICT (tenant, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
    RETURNING tenant, name, created_at, updated_at`,
  listSecrets: `SELECT tenant, name, created_at, updated_at FROM secrets WHERE tenant = @tenant ORDER BY name`,
  getSecrets: `SELECT tenant, name, value, created_at, updated_at FROM secrets WHERE tenant = @tenant AND name = ANY (@names::text[])`,
  deleteSecret: `DELETE FROM secrets WHERE tenant = @tenant AND name = @name`,

  // Data lifecycle. A purge hides the session at once (one row updated), then `purge*` statements remove its rows
  // a bounded number per statement, each in a short transaction of its own: nothing holds a lock a commit of a
  // live session waits for.
  requestPurge: `
    UPDATE sessions SET purged_at = @now
    WHERE id = @id AND ${visible} AND status IN ('stopped', 'failed') AND sandbox IS NULL`,
  purgeState: `SELECT status, purged_at FROM sessions WHERE id = @id`,
  // Oldest request first; SKIP LOCKED lets the sweepers of several nodes work on different sessions.
  nextPurge: `
    SELECT id FROM sessions WHERE purged_at IS NOT NULL
    ORDER BY purged_at LIMIT 1
    FOR UPDATE SKIP LOCKED`,
  purgeEvents: `
    DELETE FROM events AS e USING (
      SELECT seq FROM events WHERE session_id = @id ORDER BY seq LIMIT @limit) AS doomed
    WHERE e.session_id = @id AND e.seq = doomed.seq`,
  purgeTurns: `DELETE FROM turns WHERE id IN (SELECT id FROM turns WHERE session_id = @id LIMIT @limit)`,
  purgeInteractions: `DELETE FROM interactions WHERE id IN (SELECT id FROM interactions WHERE session_id = @id LIMIT @limit)`,
  // Tables other features add cascade from the session row; by now it has nothing of its own left.
  purgeSession: `DELETE FROM sessions WHERE id = @id AND purged_at IS NOT NULL`,
  endedSessions: `
    SELECT ${sessionColumns} FROM sessions
    WHERE ended_at < @endedBefore AND ${visible}
      AND (CASE WHEN @sandboxKept::boolean THEN sandbox IS NOT NULL ELSE status IN ('stopped', 'failed') END)
    ORDER BY ended_at
    LIMIT @limit`,
  ...clusterStatements,
} as const;

export type QueryName = keyof typeof statements;

export const queries = Object.fromEntries(Object.entries(statements).map(([name, text]) => [name, compile(name, text)])) as Record<
  QueryName,
  Statement
>;

/** Rows per event insert: arrays past this are split, so one huge batch never makes one huge statement. */
export const eventRowsPerInsert = 1000;
