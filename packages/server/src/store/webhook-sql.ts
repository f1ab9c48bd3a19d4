/**
 * @module webhook-sql — the SQLite schema (migration 4) and statements of webhooks and their delivery state.
 *
 * The outbox is a cursor per (webhook, session): the seq delivered last. Events are read from the log by seq
 * when a batch is sent, never copied, so a webhook costs one row per session it follows, not one per event.
 */
import type { Migration } from "./sql.ts";

export const webhookMigration: Migration = {
  version: 4,
  install: [
    `CREATE TABLE webhooks (
      id               TEXT PRIMARY KEY,
      tenant           TEXT NOT NULL,
      url              TEXT NOT NULL,
      secret           TEXT NOT NULL,
      events           TEXT,            -- JSON array of event types; NULL: all
      session_metadata TEXT NOT NULL,   -- JSON object every followed session's metadata must contain
      session_id       TEXT REFERENCES sessions (id) ON DELETE CASCADE,   -- a session's own webhook
      created_at       INTEGER NOT NULL,
      failures         INTEGER NOT NULL DEFAULT 0,
      failing_since    INTEGER,
      paused_at        INTEGER,
      paused_reason    TEXT
    )`,
    `CREATE INDEX webhooks_tenant ON webhooks (tenant, id)`,
    `CREATE TABLE webhook_cursors (
      webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
      session_id      TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
      delivered_seq   INTEGER NOT NULL DEFAULT 0,
      attempt         INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL DEFAULT 0,
      claimed_until   INTEGER NOT NULL DEFAULT 0,
      last_error      TEXT,
      PRIMARY KEY (webhook_id, session_id)
    )`,
    `CREATE INDEX webhook_cursors_session ON webhook_cursors (session_id)`,
    `CREATE INDEX webhook_cursors_due ON webhook_cursors (next_attempt_at)`,
    `CREATE TABLE webhook_deliveries (
      id            TEXT PRIMARY KEY,
      webhook_id    TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
      session_id    TEXT NOT NULL,
      first_seq     INTEGER NOT NULL,
      last_seq      INTEGER NOT NULL,
      event_count   INTEGER NOT NULL,
      attempt       INTEGER NOT NULL,
      status_code   INTEGER,
      ok            INTEGER NOT NULL,
      error         TEXT,
      duration_ms   INTEGER NOT NULL,
      at            INTEGER NOT NULL,
      next_retry_at INTEGER
    )`,
    `CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id)`,
  ],
};

/** `metadata` (a JSON object) has every key/value of `wanted` (one too). */
const contains = (metadata: string, wanted: string) => `NOT EXISTS (
  SELECT 1 FROM json_each(${wanted}) AS wanted
  WHERE (SELECT have.value FROM json_each(${metadata}) AS have WHERE have.key = wanted.key) IS NOT wanted.value)`;

const webhookColumns = `w.id, w.tenant, w.url, w.secret, w.events, w.session_metadata, w.session_id, w.created_at,
  w.failures, w.failing_since, w.paused_at, w.paused_reason`;

export const webhookQueries = {
  insertWebhook: `
    INSERT INTO webhooks (id, tenant, url, secret, events, session_metadata, session_id, created_at)
    VALUES (@id, @tenant, @url, @secret, @events, @sessionMetadata, @sessionId, @createdAt)`,
  // A new tenant webhook follows each session that is not final from the end of its log as it is now.
  attachLiveSessions: `
    INSERT INTO webhook_cursors (webhook_id, session_id, delivered_seq)
    SELECT @id, s.id, s.last_seq FROM sessions AS s
    WHERE s.tenant = @tenant AND s.purged_at IS NULL
      AND NOT (s.status IN ('stopped', 'failed') AND s.sandbox IS NULL)
      AND ${contains("s.metadata", "@sessionMetadata")}`,
  // A new session is followed from seq 0 by its own webhook and by each tenant webhook its metadata matches.
  attachSession: `
    INSERT INTO webhook_cursors (webhook_id, session_id, delivered_seq)
    SELECT w.id, @sessionId, 0 FROM webhooks AS w
    WHERE w.tenant = @tenant
      AND (w.session_id = @sessionId OR (w.session_id IS NULL AND ${contains("@metadata", "w.session_metadata")}))`,
  getWebhook: `SELECT ${webhookColumns} FROM webhooks AS w WHERE w.id = ?`,
  listWebhooks: `SELECT ${webhookColumns} FROM webhooks AS w WHERE w.tenant = ? ORDER BY w.id`,
  countWebhooks: `SELECT count(*) AS n FROM webhooks WHERE tenant = ? AND session_id IS NULL`,
  deleteWebhook: `DELETE FROM webhooks WHERE id = ?`,
  // Cursors behind their session's log, due, not claimed, of webhooks not paused; most overdue first.
  dueCursors: `
    SELECT ${webhookColumns}, c.session_id AS cursor_session_id, c.delivered_seq, c.attempt, c.next_attempt_at,
           c.last_error, s.last_seq AS session_last_seq
    FROM webhook_cursors AS c
    JOIN webhooks AS w ON w.id = c.webhook_id
    JOIN sessions AS s ON s.id = c.session_id
    WHERE c.next_attempt_at <= @now AND c.claimed_until <= @now AND w.paused_at IS NULL
      AND s.last_seq > c.delivered_seq AND s.purged_at IS NULL
    ORDER BY c.next_attempt_at
    LIMIT @limit`,
  claimCursor: `UPDATE webhook_cursors SET claimed_until = @until WHERE webhook_id = @webhookId AND session_id = @sessionId`,
  insertDelivery: `
    INSERT INTO webhook_deliveries (id, webhook_id, session_id, first_seq, last_seq, event_count, attempt, status_code,
                                    ok, error, duration_ms, at, next_retry_at)
    SELECT @id, @webhookId, @sessionId, @firstSeq, @lastSeq, @eventCount, @attempt, @statusCode, @ok, @error,
           @durationMs, @at, @nextRetryAt
    WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = @webhookId)`,
  // The log keeps the newest `keep` attempts of a webhook.
  pruneDeliveries: `
    DELETE FROM webhook_deliveries
    WHERE webhook_id = @webhookId AND id <= (
      SELECT id FROM webhook_deliveries WHERE webhook_id = @webhookId ORDER BY id DESC LIMIT 1 OFFSET @keep)`,
  cursorDelivered: `
    UPDATE webhook_cursors SET delivered_seq = max(delivered_seq, @seq), attempt = 0, next_attempt_at = 0,
                               claimed_until = 0, last_error = NULL
    WHERE webhook_id = @webhookId AND session_id = @sessionId`,
  // A cursor at the end of a final session's log (failed, or stopped with its sandbox gone) has nothing more
  // to deliver: removed, so that the search for due work scans only sessions that may still grow.
  retireCursor: `
    DELETE FROM webhook_cursors
    WHERE webhook_id = @webhookId AND session_id = @sessionId
      AND delivered_seq >= (SELECT last_seq FROM sessions
                            WHERE id = @sessionId AND status IN ('stopped', 'failed') AND sandbox IS NULL)`,
  cursorFailed: `
    UPDATE webhook_cursors SET attempt = attempt + 1, next_attempt_at = @retryAt, claimed_until = 0, last_error = @error
    WHERE webhook_id = @webhookId AND session_id = @sessionId`,
  webhookSucceeded: `UPDATE webhooks SET failures = 0, failing_since = NULL WHERE id = @webhookId`,
  webhookFailed: `
    UPDATE webhooks SET failures = failures + 1, failing_since = coalesce(failing_since, @now),
                        paused_at = coalesce(paused_at, @pausedAt),
                        paused_reason = iif(paused_at IS NULL, @pausedReason, paused_reason)
    WHERE id = @webhookId`,
  listDeliveries: `
    SELECT * FROM webhook_deliveries
    WHERE webhook_id = @webhookId AND id < coalesce(@before, char(1114111))
    ORDER BY id DESC
    LIMIT @limit`,
  // Failing ones first: what the delivery log's reader looks for.
  listCursors: `SELECT * FROM webhook_cursors WHERE webhook_id = ? ORDER BY attempt DESC, session_id LIMIT ?`,
  resumeWebhook: `UPDATE webhooks SET paused_at = NULL, paused_reason = NULL, failures = 0, failing_since = NULL WHERE id = ?`,
  resumeCursors: `UPDATE webhook_cursors SET attempt = 0, next_attempt_at = 0 WHERE webhook_id = ?`,
} as const;
