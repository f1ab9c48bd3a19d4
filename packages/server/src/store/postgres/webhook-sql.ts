/**
 * @module postgres/webhook-sql — the PostgreSQL schema (migration 4, the same as SQLite's) and statements of
 * webhooks and their delivery state. See ../webhook-sql.ts for the outbox's shape.
 */
import type { Migration } from "../sql.ts";

export const webhookMigration: Migration = {
  version: 4,
  install: [
    `CREATE TABLE webhooks (
      id               text COLLATE "C" PRIMARY KEY,
      tenant           text NOT NULL,
      url              text NOT NULL,
      secret           text NOT NULL,
      events           jsonb,
      session_metadata jsonb NOT NULL,
      session_id       text COLLATE "C" REFERENCES sessions (id) ON DELETE CASCADE,
      created_at       bigint NOT NULL,
      failures         integer NOT NULL DEFAULT 0,
      failing_since    bigint,
      paused_at        bigint,
      paused_reason    text
    )`,
    `CREATE INDEX webhooks_tenant ON webhooks (tenant, id)`,
    `CREATE TABLE webhook_cursors (
      webhook_id      text COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
      session_id      text COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
      delivered_seq   bigint NOT NULL DEFAULT 0,
      attempt         integer NOT NULL DEFAULT 0,
      next_attempt_at bigint NOT NULL DEFAULT 0,
      claimed_until   bigint NOT NULL DEFAULT 0,
      last_error      text,
      PRIMARY KEY (webhook_id, session_id)
    )`,
    `CREATE INDEX webhook_cursors_session ON webhook_cursors (session_id)`,
    `CREATE INDEX webhook_cursors_due ON webhook_cursors (next_attempt_at)`,
    `CREATE TABLE webhook_deliveries (
      id            text COLLATE "C" PRIMARY KEY,
      webhook_id    text COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
      session_id    text COLLATE "C" NOT NULL,
      first_seq     bigint NOT NULL,
      last_seq      bigint NOT NULL,
      event_count   integer NOT NULL,
      attempt       integer NOT NULL,
      status_code   integer,
      ok            boolean NOT NULL,
      error         text,
      duration_ms   bigint NOT NULL,
      at            bigint NOT NULL,
      next_retry_at bigint
    )`,
    `CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id)`,
  ],
};

const webhookColumns = `w.id, w.tenant, w.url, w.secret, w.events::text AS events, w.session_metadata::text AS session_metadata,
  w.session_id, w.created_at, w.failures, w.failing_since, w.paused_at, w.paused_reason`;
const cursorColumns = `webhook_id, session_id, delivered_seq, attempt, next_attempt_at, last_error`;

/** Compiled by webhooks.ts (importing `compile` here would make sql.ts and this module import each other). */
export const webhookStatements = {
  insertWebhook: `
    INSERT INTO webhooks (id, tenant, url, secret, events, session_metadata, session_id, created_at)
    VALUES (@id, @tenant, @url, @secret, @events::jsonb, @sessionMetadata::jsonb, @sessionId, @createdAt)`,
  // A new tenant webhook follows each session that is not final from the end of its log as it is now.
  attachLiveSessions: `
    INSERT INTO webhook_cursors (webhook_id, session_id, delivered_seq)
    SELECT @id, s.id, s.last_seq FROM sessions AS s
    WHERE s.tenant = @tenant AND s.purged_at IS NULL
      AND NOT (s.status IN ('stopped', 'failed') AND s.sandbox IS NULL)
      AND s.metadata @> @sessionMetadata::jsonb`,
  // A new session is followed from seq 0 by its own webhook and by each tenant webhook its metadata matches.
  attachSession: `
    INSERT INTO webhook_cursors (webhook_id, session_id, delivered_seq)
    SELECT w.id, @sessionId, 0 FROM webhooks AS w
    WHERE w.tenant = @tenant
      AND (w.session_id = @sessionId OR (w.session_id IS NULL AND @metadata::jsonb @> w.session_metadata))`,
  getWebhook: `SELECT ${webhookColumns} FROM webhooks AS w WHERE w.id = @id`,
  listWebhooks: `SELECT ${webhookColumns} FROM webhooks AS w WHERE w.tenant = @tenant ORDER BY w.id`,
  countWebhooks: `SELECT count(*)::int AS n FROM webhooks WHERE tenant = @tenant AND session_id IS NULL`,
  deleteWebhook: `DELETE FROM webhooks WHERE id = @id`,
  // Due cursors locked with SKIP LOCKED and claimed in one statement: the workers of several nodes never take
  // the same one. Most overdue first.
  claimDue: `
    WITH due AS (
      SELECT ${webhookColumns}, c.session_id AS cursor_session_id, c.delivered_seq, c.attempt, c.next_attempt_at,
             c.last_error, s.last_seq AS session_last_seq
      FROM webhook_cursors AS c
      JOIN webhooks AS w ON w.id = c.webhook_id
      JOIN sessions AS s ON s.id = c.session_id
      WHERE c.next_attempt_at <= @now AND c.claimed_until <= @now AND w.paused_at IS NULL
        AND s.last_seq > c.delivered_seq AND s.purged_at IS NULL
      ORDER BY c.next_attempt_at
      LIMIT @limit
      FOR UPDATE OF c SKIP LOCKED)
    UPDATE webhook_cursors AS c SET claimed_until = @until
    FROM due WHERE c.webhook_id = due.id AND c.session_id = due.cursor_session_id
    RETURNING due.*`,
  insertDelivery: `
    INSERT INTO webhook_deliveries (id, webhook_id, session_id, first_seq, last_seq, event_count, attempt, status_code,
                                    ok, error, duration_ms, at, next_retry_at)
    SELECT @id, @webhookId, @sessionId, @firstSeq, @lastSeq, @eventCount, @attempt, @statusCode, @ok::int::boolean,
           @error, @durationMs, @at, @nextRetryAt
    WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = @webhookId)`,
  pruneDeliveries: `
    DELETE FROM webhook_deliveries
    WHERE webhook_id = @webhookId AND id <= (
      SELECT id FROM webhook_deliveries WHERE webhook_id = @webhookId ORDER BY id DESC LIMIT 1 OFFSET @keep)`,
  cursorDelivered: `
    UPDATE webhook_cursors SET delivered_seq = greatest(delivered_seq, @seq), attempt = 0, next_attempt_at = 0,
                               claimed_until = 0, last_error = NULL
    WHERE webhook_id = @webhookId AND session_id = @sessionId`,
  // As SQLite's: a cursor at the end of a final session's log has nothing more to deliver.
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
                        paused_at = coalesce(paused_at, @pausedAt::bigint),
                        paused_reason = CASE WHEN paused_at IS NULL THEN @pausedReason::text ELSE paused_reason END
    WHERE id = @webhookId`,
  listDeliveries: `
    SELECT id, webhook_id, session_id, first_seq, last_seq, event_count, attempt, status_code, ok, error, duration_ms,
           at, next_retry_at
    FROM webhook_deliveries
    WHERE webhook_id = @webhookId AND (@before::text IS NULL OR id < @before)
    ORDER BY id DESC
    LIMIT @limit`,
  listCursors: `SELECT ${cursorColumns} FROM webhook_cursors WHERE webhook_id = @webhookId ORDER BY attempt DESC, session_id LIMIT @limit`,
  resumeWebhook: `UPDATE webhooks SET paused_at = NULL, paused_reason = NULL, failures = 0, failing_since = NULL WHERE id = @id`,
  resumeCursors: `UPDATE webhook_cursors SET attempt = 0, next_attempt_at = 0 WHERE webhook_id = @id`,
} as const;

export type WebhookQueryName = keyof typeof webhookStatements;
