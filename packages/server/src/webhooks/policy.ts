/**
 * @module policy — the decisions of webhook delivery, pure and synchronous (the worker does the I/O): what a
 * batch holds, when a failed batch is tried again, when a receiver that keeps failing is paused.
 */
import type { EventRow, WebhookPause, WebhookRecord } from "@airlock/protocol";

export interface DeliverySettings {
  /** A POST that has not answered by then failed. */
  timeoutMs: number;
  /** Failed deliveries in a row (over all of a webhook's sessions) after which it is paused... */
  maxAttempts: number;
  /**
   * ...once they also span this long: with many sessions failing at once, `maxAttempts` failures come within
   * seconds, and a receiver down for a minute must not be paused for it.
   */
  pauseAfterMs: number;
  /** The first retry's delay, doubled per failure of the same batch up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Events per POST at most. */
  batchSize: number;
  /** POSTs in flight at once over all webhooks (one per webhook and session at most). */
  concurrency: number;
  /** How often the store is asked for due work. */
  pollMs: number;
}

export const defaultDeliverySettings: DeliverySettings = {
  timeoutMs: 10_000,
  maxAttempts: 16,
  pauseAfterMs: 3_600_000,
  backoffMs: 1000,
  maxBackoffMs: 3_600_000,
  batchSize: 100,
  concurrency: 8,
  pollMs: 250,
};

/**
 * The delay before try `attempt + 1` of a batch that failed `attempt` times: exponential, capped, with "equal
 * jitter" (half fixed, half random) so receivers that come back are not hit by every sender at the same instant.
 */
export function retryDelay(attempt: number, s: Pick<DeliverySettings, "backoffMs" | "maxBackoffMs">, random: () => number = Math.random): number {
  const exp = Math.min(s.maxBackoffMs, s.backoffMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/** The pause a failure brings: when it makes `maxAttempts` in a row, failing for `pauseAfterMs` or longer. */
export function pauseAfterFailure(
  webhook: Pick<WebhookRecord, "failures" | "failingSince">,
  error: string,
  now: number,
  s: Pick<DeliverySettings, "maxAttempts" | "pauseAfterMs">,
): WebhookPause | undefined {
  const failures = webhook.failures + 1;
  if (failures < s.maxAttempts || now - (webhook.failingSince ?? now) < s.pauseAfterMs) return undefined;
  const since = new Date(webhook.failingSince ?? now).toISOString();
  return { reason: `${failures} deliveries failed in a row since ${since} (last: ${error}); POST /v1/webhooks/:id/resume to deliver again from where it stopped`, at: now };
}

export interface Batch {
  /** The events to send, in seq order (only the webhook's types). */
  events: EventRow[];
  /** On success the cursor moves here: past events of other types too, never past an event not sent. */
  coveredTo: number;
}

/** The next batch from a page of the log read after the cursor (oldest first). */
export function planBatch(rows: EventRow[], types: readonly string[] | null, batchSize: number): Batch {
  const events: EventRow[] = [];
  for (const row of rows) {
    if (types && !types.includes(row.type)) continue;
    events.push(row);
    if (events.length === batchSize) return { events, coveredTo: row.seq };
  }
  return { events, coveredTo: rows.length ? rows[rows.length - 1].seq : 0 };
}

/** What a failed attempt's log shows: the status and the start of the receiver's answer, or the network error. */
export function describeFailure(status: number | null, bodyStart: string, error?: unknown): string {
  if (status !== null) return `HTTP ${status}${bodyStart ? `: ${bodyStart.replace(/\s+/g, " ").slice(0, 200)}` : ""}`;
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  if (e?.name === "TimeoutError") return "no answer in time (timed out)";
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `request failed: ${cause ?? e?.message ?? String(error)}`.slice(0, 300);
}
