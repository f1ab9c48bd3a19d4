/**
 * @module views — webhook and delivery records as the API shows them, and new records from requests.
 */
import { type DeliveryRecord, type DeliveryView, type WebhookRecord, type WebhookView, newId } from "@airlock/protocol";
import { newWebhookSecret } from "./signature.ts";

const iso = (ms: number) => new Date(ms).toISOString();

export function webhookView(w: WebhookRecord, withSecret = false): WebhookView {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    sessionMetadata: w.sessionMetadata,
    sessionId: w.sessionId,
    createdAt: iso(w.createdAt),
    paused: w.paused ? { reason: w.paused.reason, at: iso(w.paused.at) } : null,
    consecutiveFailures: w.failures,
    ...(withSecret ? { secret: w.secret } : {}),
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

export function newWebhookRecord(tenant: string, spec: { url: string; events?: string[]; sessionMetadata?: Record<string, string> }, sessionId: string | null = null): WebhookRecord {
  return {
    id: newId("webhook"),
    tenant,
    url: spec.url,
    secret: newWebhookSecret(),
    // Sorted and deduplicated: the same set reads the same everywhere.
    events: spec.events ? [...new Set(spec.events)].sort() : null,
    sessionMetadata: spec.sessionMetadata ?? {},
    sessionId,
    createdAt: Date.now(),
    failures: 0,
    failingSince: null,
    paused: null,
  };
}
