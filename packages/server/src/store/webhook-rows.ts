/**
 * @module webhook-rows — webhook, cursor and delivery records ⇄ table rows, shared by both SQL stores.
 */
import type { DeliveryRecord, WebhookCursor, WebhookRecord } from "@airlock/protocol";

type Row = Record<string, any>;

export function webhookParams(w: WebhookRecord) {
  return {
    id: w.id,
    tenant: w.tenant,
    url: w.url,
    secret: w.secret,
    events: w.events ? JSON.stringify(w.events) : null,
    sessionMetadata: JSON.stringify(w.sessionMetadata),
    sessionId: w.sessionId,
    createdAt: w.createdAt,
  };
}

export function toWebhook(r: Row): WebhookRecord {
  return {
    id: r.id,
    tenant: r.tenant,
    url: r.url,
    secret: r.secret,
    events: r.events === null ? null : JSON.parse(r.events),
    sessionMetadata: JSON.parse(r.session_metadata),
    sessionId: r.session_id,
    createdAt: r.created_at,
    failures: r.failures,
    failingSince: r.failing_since,
    paused: r.paused_at === null ? null : { reason: r.paused_reason, at: r.paused_at },
  };
}

export function toCursor(r: Row): WebhookCursor {
  return {
    webhookId: r.webhook_id,
    sessionId: r.session_id,
    deliveredSeq: r.delivered_seq,
    attempt: r.attempt,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
  };
}

export function deliveryParams(d: DeliveryRecord) {
  return {
    id: d.id,
    webhookId: d.webhookId,
    sessionId: d.sessionId,
    firstSeq: d.firstSeq,
    lastSeq: d.lastSeq,
    eventCount: d.eventCount,
    attempt: d.attempt,
    statusCode: d.statusCode,
    ok: d.ok ? 1 : 0,
    error: d.error,
    durationMs: d.durationMs,
    at: d.at,
    nextRetryAt: d.nextRetryAt,
  };
}

export function toDelivery(r: Row): DeliveryRecord {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    sessionId: r.session_id,
    firstSeq: r.first_seq,
    lastSeq: r.last_seq,
    eventCount: r.event_count,
    attempt: r.attempt,
    statusCode: r.status_code,
    ok: Boolean(r.ok),
    error: r.error,
    durationMs: r.duration_ms,
    at: r.at,
    nextRetryAt: r.next_retry_at,
  };
}
