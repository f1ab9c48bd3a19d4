/**
 * @module worker — delivers webhooks: claims due cursors from the store, reads each one's next events from the
 * log by seq, POSTs them signed, and writes the outcome back. All its state is in the store, so a restart (or
 * another node) carries on where it stopped; a delivery whose outcome was not written is sent again (at least
 * once: receivers deduplicate by session and seq).
 *
 * One POST at a time per webhook and session (the claim), so a session's events arrive in seq order; while a
 * slow receiver answers, events pile up in the log and the next POST takes up to `batchSize` of them. Memory is
 * bounded by `concurrency` pages of at most `batchSize` events (a few pages more with a type filter).
 */
import { type DueDelivery, type DeliveryRecord, type StoreV1, type WebhookRecord, eventJson, newId } from "@airlock/protocol";
import type { Logger } from "../log.ts";
import { type DeliverySettings, describeFailure, pauseAfterFailure, planBatch, retryDelay } from "./policy.ts";
import { signatureHeader, signatureHeaderName } from "./signature.ts";

/** Raw events read per attempt when a webhook follows only some types (those of other types are skipped). */
const filteredPage = 1000;
const maxErrorBody = 1024;

export interface WebhookWorkerDeps {
  store: StoreV1;
  log: Logger;
  settings: DeliverySettings;
  /** The signing secret of a stored webhook, in clear (it is stored sealed). */
  signingSecret(webhook: WebhookRecord): string;
}

export class WebhookWorker {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private closed: Promise<void> | null = null;

  constructor(private readonly deps: WebhookWorkerDeps) {}

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.poll(), this.deps.settings.pollMs);
    this.timer.unref();
    void this.poll();
  }

  /** Looks for work now (new events were committed, a webhook resumed) rather than at the next poll. */
  wake(): void {
    if (this.timer) void this.poll();
  }

  /**
   * Stops claiming and gives deliveries in flight `graceMs` to finish and be recorded; those still going then are
   * cut off (their claims lapse, and they are sent again then: a restart right after waits out the lease).
   */
  close(graceMs = 2000): Promise<void> {
    return (this.closed ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      this.stopping.abort();
      await Promise.allSettled([...this.inFlight]);
    })());
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const room = this.deps.settings.concurrency - this.inFlight.size;
      if (room <= 0) return;
      const lease = this.deps.settings.timeoutMs + 2000;
      const due = await this.deps.store.webhooks.claimDue(Date.now(), lease, room);
      for (const d of due) {
        const p: Promise<void> = this.deliver(d).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }
    } catch (err) {
      // A background loop never throws: the store may be briefly out of reach; the next poll tries again.
      if (!this.closed) this.deps.log.warn({ err }, "webhooks: looking for due deliveries failed");
    } finally {
      this.polling = false;
    }
  }

  private async deliver(due: DueDelivery): Promise<void> {
    const { store, settings, log } = this.deps;
    const { webhook, cursor } = due;
    const key = { webhookId: webhook.id, sessionId: cursor.sessionId };
    try {
      const page = webhook.events ? filteredPage : settings.batchSize;
      const rows = await store.readEvents(cursor.sessionId, cursor.deliveredSeq, page);
      const batch = planBatch(rows, webhook.events, settings.batchSize);
      if (batch.events.length === 0) {
        // Only events of other types (or none left): move on without a POST.
        await store.webhooks.recordOutcome({ ...key, deliveredSeq: Math.max(cursor.deliveredSeq, batch.coveredTo) }, Date.now());
        return;
      }
      const deliveryId = newId("delivery");
      const body = `{"webhookId":${JSON.stringify(webhook.id)},"deliveryId":"${deliveryId}","sessionId":"${cursor.sessionId}","events":[${batch.events.map(eventJson).join(",")}]}`;
      const started = Date.now();
      let status: number | null = null;
      let answer = "";
      let failure: unknown;
      try {
        const res = await fetch(webhook.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "Airlock-Webhooks/1",
            [signatureHeaderName]: signatureHeader(this.deps.signingSecret(webhook), body),
            "airlock-webhook-id": webhook.id,
            "airlock-delivery-id": deliveryId,
          },
          body,
          redirect: "manual",
          signal: AbortSignal.any([AbortSignal.timeout(settings.timeoutMs), this.stopping.signal]),
        });
        status = res.status;
        answer = await readStart(res);
      } catch (err) {
        failure = err;
      }
      if (this.stopping.signal.aborted) return; // cut off by close(): the claim lapses, it is sent again
      const now = Date.now();
      const ok = status !== null && status >= 200 && status < 300;
      const record: DeliveryRecord = {
        id: deliveryId,
        ...key,
        firstSeq: batch.events[0].seq,
        lastSeq: batch.events[batch.events.length - 1].seq,
        eventCount: batch.events.length,
        attempt: cursor.attempt + 1,
        statusCode: status,
        ok,
        error: null,
        durationMs: now - started,
        at: started,
        nextRetryAt: null,
      };
      if (ok) {
        await store.webhooks.recordOutcome({ ...key, delivery: record, deliveredSeq: batch.coveredTo }, now);
        return;
      }
      const error = describeFailure(status, answer, failure);
      const retryAt = now + retryDelay(cursor.attempt + 1, settings);
      const pause = pauseAfterFailure(webhook, error, now, settings);
      if (pause) log.warn({ webhookId: webhook.id, reason: pause.reason }, "webhooks: a webhook was paused");
      await store.webhooks.recordOutcome({ ...key, delivery: { ...record, error, nextRetryAt: pause ? null : retryAt }, retryAt, error, ...(pause ? { pause } : {}) }, now);
    } catch (err) {
      // The store failed: the claim lapses and the batch is tried again then.
      if (!this.closed) log.warn({ err, webhookId: webhook.id, sessionId: cursor.sessionId }, "webhooks: recording a delivery failed");
    }
  }
}

/** The start of a response's body (for the log), reading no more than that: a huge answer is not buffered. */
async function readStart(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxErrorBody) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut off is still an answer: the status decides.
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString("utf8").slice(0, maxErrorBody);
}
