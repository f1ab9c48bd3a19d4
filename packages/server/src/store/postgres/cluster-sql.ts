/**
 * @module postgres/cluster-sql — the schema and statements of several nodes on one database: nodes' heartbeats,
 * session leases (owner, expiry, epoch as fencing token) and commands waiting for a session's owner.
 *
 * Leases are timed by the database's clock, not the nodes': nodes whose clocks drift still agree on who owns what.
 * Claims of expired leases and renewals skip rows another transaction has locked (`SKIP LOCKED`), so nodes claiming
 * at once share the work instead of queueing behind each other, and neither waits behind a commit in flight.
 */
import type { Migration } from "../sql.ts";

export const clusterMigration: Migration = {
  // The same as SQLite's version 6.
  version: 6,
  install: [
    `ALTER TABLE sessions ADD COLUMN owner_node text, ADD COLUMN lease_epoch bigint NOT NULL DEFAULT 0,
       ADD COLUMN lease_expires bigint NOT NULL DEFAULT 0`,
    `CREATE INDEX sessions_owner ON sessions (owner_node) WHERE owner_node IS NOT NULL`,
    `CREATE TABLE nodes (id text PRIMARY KEY, url text NOT NULL, started_at bigint NOT NULL, heartbeat_at bigint NOT NULL)`,
    `CREATE TABLE session_commands (
      id         bigserial PRIMARY KEY,
      session_id text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
      kind       text NOT NULL,
      created_at bigint NOT NULL
    )`,
    `CREATE INDEX session_commands_session ON session_commands (session_id)`,
  ],
};

/** The database's clock in ms since the epoch (leases are timed by it). */
export const dbNowMs = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
const live = `status NOT IN ('stopped', 'failed')`;
const visible = `purged_at IS NULL`;

export const clusterStatements = {
  heartbeat: `
    INSERT INTO nodes (id, url, started_at, heartbeat_at) VALUES (@id, @url, @startedAt, ${dbNowMs})
    ON CONFLICT (id) DO UPDATE SET url = excluded.url, heartbeat_at = excluded.heartbeat_at`,
  listNodes: `SELECT id, url, started_at, heartbeat_at FROM nodes WHERE heartbeat_at > @aliveAfter ORDER BY id`,
  removeNode: `DELETE FROM nodes WHERE id = @id`,
  // Free, expired or already ours (then only extended). A lease another node holds is left alone.
  claimSession: `
    UPDATE sessions SET
      lease_epoch = CASE WHEN owner_node = @node AND lease_expires >= ${dbNowMs} THEN lease_epoch ELSE lease_epoch + 1 END,
      owner_node = @node, lease_expires = ${dbNowMs} + @ttl
    WHERE id = @id AND ${visible} AND (owner_node IS NULL OR owner_node = @node OR lease_expires < ${dbNowMs})
    RETURNING owner_node, lease_epoch, lease_expires`,
  claimExpired: `
    UPDATE sessions AS s SET owner_node = @node, lease_epoch = s.lease_epoch + 1, lease_expires = ${dbNowMs} + @ttl
    FROM (SELECT id FROM sessions
          WHERE ${live} AND ${visible} AND (owner_node IS NULL OR lease_expires < ${dbNowMs})
          ORDER BY id LIMIT @limit
          FOR UPDATE SKIP LOCKED) AS c
    WHERE s.id = c.id
    RETURNING s.id, s.owner_node, s.lease_epoch, s.lease_expires`,
  // Rows a commit holds are skipped, not waited for (under load a renewal stuck behind commits let leases lapse):
  // the owner's commits extend the lease themselves, and a skipped lease still counts while it has not expired.
  renewLeases: `
    WITH wanted AS (SELECT * FROM unnest(@ids::text[], @epochs::bigint[]) AS l (id, epoch)),
    free AS (
      SELECT s.id FROM sessions AS s JOIN wanted AS l ON s.id = l.id
      WHERE s.owner_node = @node AND s.lease_epoch = l.epoch
      FOR UPDATE OF s SKIP LOCKED
    ),
    renewed AS (UPDATE sessions AS s SET lease_expires = ${dbNowMs} + @ttl FROM free WHERE s.id = free.id RETURNING s.id)
    SELECT id FROM renewed
    UNION ALL
    SELECT s.id FROM sessions AS s JOIN wanted AS l ON s.id = l.id
    WHERE s.owner_node = @node AND s.lease_epoch = l.epoch AND s.lease_expires > ${dbNowMs}
      AND s.id NOT IN (SELECT id FROM free)`,
  releaseLeases: `UPDATE sessions SET owner_node = NULL, lease_expires = 0 WHERE id = ANY (@ids::text[]) AND owner_node = @node`,
  releaseNodeLeases: `UPDATE sessions SET owner_node = NULL, lease_expires = 0 WHERE owner_node = @node`,
  addCommand: `INSERT INTO session_commands (session_id, kind, created_at) VALUES (@sessionId, @kind, ${dbNowMs})`,
  takeCommands: `DELETE FROM session_commands WHERE session_id = @sessionId RETURNING id, session_id, kind, created_at`,
  commandSessions: `
    SELECT DISTINCT c.session_id AS id FROM session_commands AS c JOIN sessions AS s ON s.id = c.session_id
    WHERE s.owner_node = @node`,
  sessionHeads: `SELECT id, last_seq FROM sessions WHERE id = ANY (@ids::text[])`,
  notify: `SELECT pg_notify(@channel, @payload)`,
  notifyMany: `SELECT pg_notify(@channel, p) FROM unnest(@payloads::text[]) AS p`,
} as const;
