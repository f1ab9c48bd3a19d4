/**
 * @module views — webhook and delivery records as the API shows them, and new records from requests.
 */
import { type DeliveryRecord, type DeliveryView, type WebhookRecord, type WebhookView, newId } from "@airlock/protocol";
import { newWebhookSecret } from "./signature.ts";

const iso = (ms: number) => new Date(ms).toISOString();

/** @param secret the signing secret in clear, given only in the answer that creates the webhook. */
export function webhookView(w: WebhookRecord, secret?: string): WebhookView {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    sessionMetadata: w.sessionMetadata,
    sessionId: w.sessionId,
    createdAt: iso(w.createdAt),
    paused: w.paused ? { reason: w.paused.reason, at: iso(w.paused.at) } : null,
    consecutiveFailures: w.failures,
    ...(secret !== undefined ? { secret } : {}),
  };
}

export function deliveryView(d: DeliveryRecord): DeliveryView {
  return {
    id: d.id,
    sessionId: d.sessionId,
    firstSeq: d.firstSeq,
    lastSeq: d.lastSeq,
    eventCount: d.eventCount,
    attempt: d.attempt,
    statusCode: d.statusCode,
    ok: d.ok,
    error: d.error,
    durationMs: d.durationMs,
    at: iso(d.at),
    nextRetryAt: d.nextRetryAt === null ? null : iso(d.nextRetryAt),
  };
}

/**
 * A new webhook: the record to store, its signing secret sealed by `seal`, and the secret in clear, which the
 * answer that creates the webhook shows once.
 */
export function newWebhookRecord(
  tenant: string,
  spec: { url: string; events?: string[]; sessionMetadata?: Record<string, string> },
  seal: (webhookId: string, secret: string) => string,
  sessionId: string | null = null,
): { record: WebhookRecord; secret: string } {
  const id = newId("webhook");
  const secret = newWebhookSecret();
  const record: WebhookRecord = {
    id,
    tenant,
    url: spec.url,
    secret: seal(id, secret),
    // Sorted and deduplicated: the same set reads the same everywhere.
    events: spec.events ? [...new Set(spec.events)].sort() : null,
    sessionMetadata: spec.sessionMetadata ?? {},
    sessionId,
    createdAt: Date.now(),
    failures: 0,
    failingSince: null,
    paused: null,
  };
  return { record, secret };
}
