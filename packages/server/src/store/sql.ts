/**
 * @module sql — every statement of the SQLite store as plain text: the schema as migration records, then the
 * queries. Callers bind values and never build SQL; a statement with optional filters takes NULL for "any".
 *
 * Patches (session, turn, interaction) are bound as one JSON object. A key that is absent (or `undefined`,
 * which `JSON.stringify` drops) keeps the column as it is; a JSON `null` clears it. So one prepared statement
 * serves every shape of patch, and `{status: undefined}` can never null a NOT NULL column.
 */

export interface Migration {
  version: number;
  install: string[];
}

import { webhookMigration } from "./webhook-sql.ts";

/**
 * `events` is WITHOUT ROWID: the log lives in its primary key b-tree, so each event is written once (not to a
 * table and again to a (session_id, seq) index). Measured with 1M events over 20 sessions: writes equal
 * (~360k events/s either way), reads 5-10% faster, the file 15% smaller (182 vs 213 MB).
 */
export const migrations: Migration[] = [
  {
    version: 1,
    install: [
      `CREATE TABLE sessions (
        id             TEXT PRIMARY KEY,
        tenant         TEXT NOT NULL,
        agent          TEXT NOT NULL,
        provider       TEXT NOT NULL,
        status         TEXT NOT NULL,
        status_reason  TEXT,
        options        TEXT NOT NULL,   -- JSON SessionOptions
        metadata       TEXT NOT NULL,   -- JSON object of strings
        last_seq       INTEGER NOT NULL DEFAULT 0,
        journal_offset INTEGER NOT NULL DEFAULT 0,
        sandbox        TEXT,            -- JSON SandboxRef
        acp_session_id TEXT,
        usage          TEXT NOT NULL,   -- JSON Usage
        idle_deadline  INTEGER,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
      )`,
      `CREATE INDEX sessions_tenant ON sessions (tenant, id DESC)`,
      `CREATE INDEX sessions_status ON sessions (status)`,
      `CREATE TABLE events (
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        at         INTEGER NOT NULL,
        type       TEXT NOT NULL,
        turn_id    TEXT,
        data       TEXT NOT NULL,   -- JSON, exactly as clients receive it
        PRIMARY KEY (session_id, seq)
      ) WITHOUT ROWID`,
      `CREATE TABLE turns (
        id         TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        status     TEXT NOT NULL,
        prompt     TEXT NOT NULL,   -- JSON ContentBlock[]
        stop_reason TEXT,
        error      TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at   INTEGER
      )`,
      `CREATE INDEX turns_session ON turns (session_id, status)`,
      `CREATE TABLE interactions (
        id          TEXT PRIMARY KEY,
        session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        turn_id     TEXT,
        kind        TEXT NOT NULL,
        rpc_id      TEXT NOT NULL,   -- JSON: a JSON-RPC id is a number or a string
        request     TEXT NOT NULL,   -- JSON
        status      TEXT NOT NULL,
        resolution  TEXT,            -- JSON
        delivered   INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL,
        resolved_at INTEGER
      )`,
      `CREATE INDEX interactions_session ON interactions (session_id, status)`,
      `CREATE TABLE api_keys (
        id         TEXT PRIMARY KEY,
        tenant     TEXT NOT NULL,
        name       TEXT NOT NULL,
        hash       TEXT NOT NULL UNIQUE,   -- hex sha256 of the key; the key itself is never stored
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      )`,
    ],
  },
  {
    // Idempotent prompts and answers: the request's Idempotency-Key and a hash of its body, stored with the turn
    // it queued / the resolution it made. The unique indexes make a concurrent retry fail its insert rather than
    // queue a second turn; the partial indexes cost nothing for rows without a key.
    version: 2,
    install: [
      `ALTER TABLE turns ADD COLUMN idempotency_key TEXT`,
      `ALTER TABLE turns ADD COLUMN idempotency_fingerprint TEXT`,
      `CREATE UNIQUE INDEX turns_idempotency ON turns (session_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
      `ALTER TABLE interactions ADD COLUMN idempotency_key TEXT`,
      `ALTER TABLE interactions ADD COLUMN idempotency_fingerprint TEXT`,
      `CREATE UNIQUE INDEX interactions_idempotency ON interactions (session_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    ],
  },
  {
    // Tenant secrets (the same as PostgreSQL's version 3). `value` is sealed by the server (AES-256-GCM) before
    // it reaches the store: the database never holds a secret in clear.
    version: 3,
    install: [
      `CREATE TABLE secrets (
        tenant     TEXT NOT NULL,
        name       TEXT NOT NULL,
        value      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, name)
      ) WITHOUT ROWID`,
    ],
  },
  // Webhooks: their delivery cursors and log (webhook-sql.ts).
  webhookMigration,
  {
    // Several nodes (the same as PostgreSQL's version 6; SQLite serves one node, but keeps the same records):
    // session leases with their fencing epoch, the nodes' heartbeats, commands waiting for a session's owner.
    version: 6,
    install: [
      `ALTER TABLE sessions ADD COLUMN owner_node TEXT`,
      `ALTER TABLE sessions ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0`,
      `ALTER TABLE sessions ADD COLUMN lease_expires INTEGER NOT NULL DEFAULT 0`,
      `CREATE INDEX sessions_owner ON sessions (owner_node) WHERE owner_node IS NOT NULL`,
      `CREATE TABLE nodes (id TEXT PRIMARY KEY, url TEXT NOT NULL, started_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL)`,
      `CREATE TABLE session_commands (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        kind       TEXT NOT NULL,
        created_at INTEGER NOT NULL
      )`,
      `CREATE INDEX session_commands_session ON session_commands (session_id)`,
    ],
  },
  {
    // Data lifecycle (the same as PostgreSQL's version 7): when a session stopped running, and sessions being
    // purged (hidden at once, their rows removed in small batches afterwards).
    version: 7,
    install: [
      `ALTER TABLE sessions ADD COLUMN ended_at INTEGER`,
      `ALTER TABLE sessions ADD COLUMN purged_at INTEGER`,
      `UPDATE sessions SET ended_at = updated_at WHERE status IN ('stopped', 'failed', 'paused')`,
      `CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL`,
      `CREATE INDEX sessions_purged ON sessions (purged_at) WHERE purged_at IS NOT NULL`,
      // Triggers rather than a column in every status-changing statement: whatever path changes a status,
      // ended_at follows — set when the session stops running (stopped, failed, paused), kept while it goes from
      // one of those to another, cleared when it runs again.
      `CREATE TRIGGER sessions_ended_insert AFTER INSERT ON sessions
       WHEN NEW.status IN ('stopped', 'failed', 'paused')
       BEGIN
         UPDATE sessions SET ended_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = NEW.id;
       END`,
      `CREATE TRIGGER sessions_ended_update AFTER UPDATE OF status ON sessions
       WHEN NEW.status IS NOT OLD.status
       BEGIN
         UPDATE sessions SET ended_at = CASE
           WHEN NEW.status NOT IN ('stopped', 'failed', 'paused') THEN NULL
           WHEN OLD.status IN ('stopped', 'failed', 'paused') THEN ended_at
           ELSE CAST(unixepoch('subsec') * 1000 AS INTEGER) END
         WHERE id = NEW.id;
       END`,
    ],
  },
  {
    // Bounds the agent's restarts after crashes (a streak of crashes without a completed turn fails the session).
    version: 8,
    install: [`ALTER TABLE sessions ADD COLUMN agent_crashes INTEGER NOT NULL DEFAULT 0`],
  },
  {
    // The workspace a session's sandbox is made from, until it is made (see StoreV1.createSession).
    version: 9,
    install: [`CREATE TABLE session_seeds (session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE, seed TEXT NOT NULL)`],
  },
];

export const migration = {
  createVersionTable: `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`,
  versions: `SELECT version FROM schema_version`,
  recordVersion: `INSERT INTO schema_version (version) VALUES (?)`,
};

const live = `status NOT IN ('stopped', 'failed')`;
/** Purged sessions are gone for every reader at once; their rows go in small batches afterwards. */
const visible = `purged_at IS NULL`;

export const queries = {
  // Sessions
  insertSeed: `INSERT INTO session_seeds (session_id, seed) VALUES (@id, @seed)`,
  getSeed: `SELECT seed FROM session_seeds WHERE session_id = @id`,
  deleteSeed: `DELETE FROM session_seeds WHERE session_id = @id`,
  insertSession: `
    INSERT INTO sessions (id, tenant, agent, provider, status, status_reason, options, metadata, last_seq,
                          journal_offset, sandbox, acp_session_id, usage, idle_deadline, created_at, updated_at,
                          owner_node, lease_epoch, lease_expires)
    VALUES (@id, @tenant, @agent, @provider, @status, @statusReason, @options, @metadata, @lastSeq,
            @journalOffset, @sandbox, @acpSessionId, @usage, @idleDeadline, @createdAt, @updatedAt,
            @ownerNode, @leaseEpoch, @leaseExpires)`,
  getSession: `SELECT * FROM sessions WHERE id = ? AND ${visible}`,
  sessionHead: `SELECT last_seq, journal_offset, lease_epoch FROM sessions WHERE id = ? AND ${visible}`,
  // Newest first. `before` defaults to the largest string (U+10FFFF) so the id range always uses the
  // (tenant, id DESC) index, and deep pages cost no more than the first. Every metadata key/value asked for
  // must be present in the session's metadata.
  listSessions: `
    SELECT * FROM sessions
    WHERE tenant = @tenant
      AND id < coalesce(@before, char(1114111))
      AND (@status IS NULL OR status = @status)
      AND NOT EXISTS (
        SELECT 1 FROM json_each(@metadata) AS wanted
        WHERE (SELECT have.value FROM json_each(sessions.metadata) AS have WHERE have.key = wanted.key)
              IS NOT wanted.value)
      AND ${visible}
    ORDER BY id DESC
    LIMIT @limit`,
  liveSessions: `SELECT * FROM sessions WHERE ${live} ORDER BY id`,
  countLiveSessions: `SELECT count(*) AS n FROM sessions WHERE tenant = ? AND ${live}`,
  advanceSession: `UPDATE sessions SET last_seq = ?, journal_offset = ?, updated_at = ? WHERE id = ?`,
  // A commit by the owner extends its lease: see CommitBatch.leaseTtlMs.
  extendLease: `UPDATE sessions SET lease_expires = max(lease_expires, @until) WHERE id = @id`,
  patchSession: `
    UPDATE sessions SET
      status         = iif(json_type(@patch, '$.status') IS NULL, status, @patch ->> '$.status'),
      status_reason  = iif(json_type(@patch, '$.statusReason') IS NULL, status_reason, @patch ->> '$.statusReason'),
      sandbox        = iif(json_type(@patch, '$.sandbox') IS NULL, sandbox, @patch ->> '$.sandbox'),
      acp_session_id = iif(json_type(@patch, '$.acpSessionId') IS NULL, acp_session_id, @patch ->> '$.acpSessionId'),
      usage          = iif(json_type(@patch, '$.usage') IS NULL, usage, @patch ->> '$.usage'),
      idle_deadline  = iif(json_type(@patch, '$.idleDeadline') IS NULL, idle_deadline, @patch ->> '$.idleDeadline'),
      options        = iif(json_type(@patch, '$.options') IS NULL, options, @patch ->> '$.options'),
      agent_crashes  = iif(json_type(@patch, '$.agentCrashes') IS NULL, agent_crashes, @patch ->> '$.agentCrashes')
    WHERE id = @id`,
  // In SQL, so that concurrent additions never lose one to a read-modify-write race.
  addUsage: `
    UPDATE sessions SET usage = json_object(
      'inputTokens',  (usage ->> '$.inputTokens') + @inputTokens,
      'outputTokens', (usage ->> '$.outputTokens') + @outputTokens,
      'costUsd',      (usage ->> '$.costUsd') + @costUsd)
    WHERE id = @id`,

  // Events: always a range of the primary key, never the whole log (inserts: `insertEvents` below).
  readEvents: `
    SELECT session_id AS sessionId, seq, at, type, turn_id AS turnId, data
    FROM events
    WHERE session_id = ? AND seq > ?
    ORDER BY seq
    LIMIT ?`,

  // Turns, in creation order (rowid breaks ties between turns created in the same millisecond).
  insertTurn: `
    INSERT INTO turns (id, session_id, status, prompt, stop_reason, error, created_at, started_at, ended_at,
                       idempotency_key, idempotency_fingerprint)
    VALUES (@id, @sessionId, @status, @prompt, @stopReason, @error, @createdAt, @startedAt, @endedAt,
            @idempotencyKey, @idempotencyFingerprint)`,
  patchTurn: `
    UPDATE turns SET
      status      = iif(json_type(@patch, '$.status') IS NULL, status, @patch ->> '$.status'),
      stop_reason = iif(json_type(@patch, '$.stopReason') IS NULL, stop_reason, @patch ->> '$.stopReason'),
      error       = iif(json_type(@patch, '$.error') IS NULL, error, @patch ->> '$.error'),
      started_at  = iif(json_type(@patch, '$.startedAt') IS NULL, started_at, @patch ->> '$.startedAt'),
      ended_at    = iif(json_type(@patch, '$.endedAt') IS NULL, ended_at, @patch ->> '$.endedAt')
    WHERE id = @id AND session_id = @sessionId`,
  // With a status, its own statement: `(@status IS NULL OR status = @status)` would keep SQLite from the
  // (session_id, status) index, and every prompt would scan all of a long session's turns for queued ones.
  listTurns: `SELECT * FROM turns WHERE session_id = @sessionId ORDER BY created_at, rowid`,
  listTurnsWithStatus: `SELECT * FROM turns WHERE session_id = @sessionId AND status = @status ORDER BY created_at, rowid`,
  getTurn: `SELECT * FROM turns WHERE id = ? AND session_id = ?`,
  turnByIdempotencyKey: `SELECT * FROM turns WHERE session_id = ? AND idempotency_key = ?`,

  // Interactions, in creation order.
  insertInteraction: `
    INSERT INTO interactions (id, session_id, turn_id, kind, rpc_id, request, status, resolution, delivered,
                              created_at, resolved_at, idempotency_key, idempotency_fingerprint)
    VALUES (@id, @sessionId, @turnId, @kind, @rpcId, @request, @status, @resolution, @delivered,
            @createdAt, @resolvedAt, @idempotencyKey, @idempotencyFingerprint)`,
  patchInteraction: `
    UPDATE interactions SET
      status      = iif(json_type(@patch, '$.status') IS NULL, status, @patch ->> '$.status'),
      resolution  = iif(json_type(@patch, '$.resolution') IS NULL, resolution, @patch ->> '$.resolution'),
      delivered   = iif(json_type(@patch, '$.delivered') IS NULL, delivered, @patch ->> '$.delivered'),
      resolved_at = iif(json_type(@patch, '$.resolvedAt') IS NULL, resolved_at, @patch ->> '$.resolvedAt'),
      idempotency_key = iif(json_type(@patch, '$.idempotency') IS NULL, idempotency_key, @patch ->> '$.idempotency.key'),
      idempotency_fingerprint =
        iif(json_type(@patch, '$.idempotency') IS NULL, idempotency_fingerprint, @patch ->> '$.idempotency.fingerprint')
    WHERE id = @id AND session_id = @sessionId`,
  interactionStatus: `SELECT status FROM interactions WHERE id = ? AND session_id = ?`,
  // As for turns: with a status, a statement that can use the (session_id, status) index.
  listInteractions: `
    SELECT * FROM interactions
    WHERE session_id = @sessionId AND (@delivered IS NULL OR delivered = @delivered)
    ORDER BY created_at, rowid`,
  listInteractionsWithStatus: `
    SELECT * FROM interactions
    WHERE session_id = @sessionId AND status = @status AND (@delivered IS NULL OR delivered = @delivered)
    ORDER BY created_at, rowid`,
  getInteraction: `SELECT * FROM interactions WHERE id = ? AND session_id = ?`,
  interactionByIdempotencyKey: `SELECT * FROM interactions WHERE session_id = ? AND idempotency_key = ?`,

  // API keys: looked up by hash; revoked keys are kept (for the record) but never found or listed.
  insertApiKey: `INSERT INTO api_keys (id, tenant, name, hash, created_at) VALUES (?, ?, ?, ?, ?)`,
  findApiKey: `SELECT id, tenant, name, created_at FROM api_keys WHERE hash = ? AND revoked_at IS NULL`,
  listApiKeys: `
    SELECT id, tenant, name, created_at FROM api_keys
    WHERE revoked_at IS NULL AND (@tenant IS NULL OR tenant = @tenant)
    ORDER BY created_at, id`,
  revokeApiKey: `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,

  // Tenant secrets: a replace keeps the first created_at.
  putSecret: `
    INSERT INTO secrets (tenant, name, value, created_at, updated_at) VALUES (@tenant, @name, @value, @now, @now)
    ON CONFLICT (tenant, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
    RETURNING tenant, name, created_at, updated_at`,
  listSecrets: `SELECT tenant, name, created_at, updated_at FROM secrets WHERE tenant = ? ORDER BY name`,
  getSecrets: `SELECT tenant, name, value, created_at, updated_at FROM secrets WHERE tenant = @tenant AND name IN (SELECT value FROM json_each(@names))`,
  deleteSecret: `DELETE FROM secrets WHERE tenant = ? AND name = ?`,

  // Data lifecycle: a purge hides the session at once, then `purge*` remove its rows a bounded number per step,
  // each step a short transaction of its own, so commits of live sessions never wait long behind one.
  requestPurge: `
    UPDATE sessions SET purged_at = @now
    WHERE id = @id AND ${visible} AND status IN ('stopped', 'failed') AND sandbox IS NULL`,
  purgeState: `SELECT status, purged_at FROM sessions WHERE id = @id`,
  nextPurge: `SELECT id FROM sessions WHERE purged_at IS NOT NULL ORDER BY purged_at LIMIT 1`,
  purgeEvents: `
    DELETE FROM events
    WHERE session_id = @id AND seq IN (SELECT seq FROM events WHERE session_id = @id ORDER BY seq LIMIT @limit)`,
  purgeTurns: `DELETE FROM turns WHERE id IN (SELECT id FROM turns WHERE session_id = @id LIMIT @limit)`,
  purgeInteractions: `DELETE FROM interactions WHERE id IN (SELECT id FROM interactions WHERE session_id = @id LIMIT @limit)`,
  // Tables other features add cascade from the session row; by now it has nothing of its own left.
  purgeSession: `DELETE FROM sessions WHERE id = @id AND purged_at IS NOT NULL`,
  endedSessions: `
    SELECT * FROM sessions
    WHERE ended_at < @endedBefore AND ${visible}
      AND iif(@sandboxKept, sandbox IS NOT NULL, status IN ('stopped', 'failed'))
    ORDER BY ended_at
    LIMIT @limit`,

  // Several nodes. SQLite serves one node: a lease held by another node id is one a previous run of this
  // server left, so it is taken at once (PostgreSQL waits for it to expire).
  heartbeat: `
    INSERT INTO nodes (id, url, started_at, heartbeat_at) VALUES (@id, @url, @startedAt, @now)
    ON CONFLICT (id) DO UPDATE SET url = excluded.url, heartbeat_at = excluded.heartbeat_at`,
  listNodes: `SELECT * FROM nodes WHERE heartbeat_at > @aliveAfter ORDER BY id`,
  removeNode: `DELETE FROM nodes WHERE id = @id`,
  claimSession: `
    UPDATE sessions SET
      lease_epoch = iif(owner_node IS @node, lease_epoch, lease_epoch + 1),
      owner_node = @node, lease_expires = @now + @ttl
    WHERE id = @id AND ${visible}
    RETURNING owner_node, lease_epoch, lease_expires`,
  claimExpired: `
    UPDATE sessions SET owner_node = @node, lease_epoch = lease_epoch + 1, lease_expires = @now + @ttl
    WHERE id IN (SELECT id FROM sessions
                 WHERE ${live} AND ${visible} AND (owner_node IS NULL OR owner_node IS NOT @node OR lease_expires < @now)
                 ORDER BY id LIMIT @limit)
    RETURNING id, owner_node, lease_epoch, lease_expires`,
  renewLease: `UPDATE sessions SET lease_expires = @now + @ttl WHERE id = @id AND owner_node = @node AND lease_epoch = @epoch`,
  releaseLease: `UPDATE sessions SET owner_node = NULL, lease_expires = 0 WHERE id = @id AND owner_node = @node`,
  releaseNodeLeases: `UPDATE sessions SET owner_node = NULL, lease_expires = 0 WHERE owner_node = @node`,
  addCommand: `INSERT INTO session_commands (session_id, kind, created_at) VALUES (@sessionId, @kind, @now)`,
  takeCommands: `DELETE FROM session_commands WHERE session_id = @sessionId RETURNING id, session_id, kind, created_at`,
  commandSessions: `
    SELECT DISTINCT c.session_id AS id FROM session_commands c JOIN sessions s ON s.id = c.session_id
    WHERE s.owner_node = @node`,
  sessionLastSeq: `SELECT id, last_seq FROM sessions WHERE id = ?`,
} as const;

export type QueryName = keyof typeof queries;

/** Rows per multi-row insert of events: one statement step for many rows (half the cost of one per row). */
export const eventRowsPerInsert = 64;

/** Inserts `n` events in one statement: six parameters per row, in order. */
export const insertEvents = (n: number) =>
  `INSERT INTO events (session_id, seq, at, type, turn_id, data) VALUES ${Array.from({ length: n }, () => "(?, ?, ?, ?, ?, ?)").join(", ")}`;
