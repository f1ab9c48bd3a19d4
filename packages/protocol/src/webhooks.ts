/**
 * @module webhooks — webhook requests, resources and the store's webhook surface.
 *
 * A webhook receives a session's events by POST, in seq order per session, at least once: the store keeps, per
 * webhook and session, the seq delivered last (a cursor into the log, not a copy of the events), so delivery
 * survives restarts and a receiver deduplicates by (sessionId, seq).
 */
import { z } from "zod";
import { eventTypes } from "./events.ts";

export const webhookLimits = {
  maxUrlBytes: 2048,
  maxWebhooksPerTenant: 100,
  /** Delivery attempts kept per webhook in its log (older ones are dropped as new ones come). */
  keptDeliveries: 500,
} as const;

/** http or https, with a host; credentials in the URL are refused (they would show in the list). */
export const WebhookUrl = z
  .string()
  .max(webhookLimits.maxUrlBytes)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be an absolute http:// or https:// URL" });
      return;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") ctx.addIssue({ code: "custom", message: `must be http:// or https://, not ${url.protocol}//` });
    else if (!url.hostname) ctx.addIssue({ code: "custom", message: "must name a host" });
    else if (url.username || url.password) ctx.addIssue({ code: "custom", message: "must not carry credentials (user:password@)" });
  });

/** Event types a webhook (or `?types=`) follows; unknown names are refused, so a typo does not silence it. */
export const EventTypeList = z.array(z.enum(eventTypes)).min(1).max(eventTypes.length);

const sessionMetadata = z
  .record(z.string().min(1).max(64), z.string().max(1024))
  .refine((m) => Object.keys(m).length <= 32, "at most 32 keys");

/** `POST /v1/webhooks`. */
export const CreateWebhook = z
  .object({
    url: WebhookUrl,
    /** Only these event types (default: all). */
    events: EventTypeList.optional(),
    /** Only sessions whose metadata has every one of these key/values (default: all of the tenant's). */
    sessionMetadata: sessionMetadata.optional(),
  })
  .strict();
export type CreateWebhook = z.infer<typeof CreateWebhook>;

/** The `webhook` option of `POST /v1/sessions`: this session's events only. */
export const SessionWebhook = z.object({ url: WebhookUrl, events: EventTypeList.optional() }).strict();
export type SessionWebhook = z.infer<typeof SessionWebhook>;

export interface WebhookPause {
  reason: string;
  /** ms since the epoch. */
  at: number;
}

export interface WebhookRecord {
  id: string;
  tenant: string;
  url: string;
  /** The signing secret (`whsec_…`); shown once, at creation. */
  secret: string;
  events: string[] | null;
  sessionMetadata: Record<string, string>;
  /** Set for a session's own webhook (the session option); null for a tenant's. */
  sessionId: string | null;
  createdAt: number;
  /** Failed deliveries in a row, over all its sessions (reset by a success or a resume). */
  failures: number;
  /** When the current run of failures began. */
  failingSince: number | null;
  paused: WebhookPause | null;
}

/** Where one webhook stands in one session's log. */
export interface WebhookCursor {
  webhookId: string;
  sessionId: string;
  /** Every event up to this seq was delivered (or is not of the webhook's types). */
  deliveredSeq: number;
  /** Failed attempts at the next batch. */
  attempt: number;
  /** ms since the epoch; the cursor is not tried before. */
  nextAttemptAt: number;
  lastError: string | null;
}

/** A cursor with work (the session's log is past it), claimed for one delivery attempt. */
export interface DueDelivery {
  cursor: WebhookCursor;
  webhook: WebhookRecord;
  /** The session's last seq when claimed. */
  lastSeq: number;
}

/** One attempt, as the delivery log shows it. */
export interface DeliveryRecord {
  id: string;
  webhookId: string;
  sessionId: string;
  firstSeq: number;
  lastSeq: number;
  eventCount: number;
  /** 1 for the first try of this batch. */
  attempt: number;
  /** The receiver's status; null when no response came (refused, timed out). */
  statusCode: number | null;
  ok: boolean;
  error: string | null;
  durationMs: number;
  at: number;
  /** When the batch is tried again (failures only; null once paused). */
  nextRetryAt: number | null;
}

/** What one attempt changes, written in one transaction. */
export interface DeliveryOutcome {
  /** The attempt for the log; absent when nothing was sent (a range without events of the webhook's types). */
  delivery?: DeliveryRecord;
  webhookId: string;
  sessionId: string;
  /** Success: the cursor moves here and its attempts reset. */
  deliveredSeq?: number;
  /** Failure: the cursor's attempts + 1, tried again then. */
  retryAt?: number;
  error?: string;
  /** Failure that pauses the webhook. */
  pause?: WebhookPause;
}

export interface WebhookStoreV1 {
  /**
   * Stores a tenant's webhook and starts it at the current end of the log of each live session it matches (events
   * from now on); sessions created later start at their beginning (`createSession`).
   */
  createWebhook(record: WebhookRecord): Promise<void>;
  getWebhook(id: string): Promise<WebhookRecord | null>;
  /** A tenant's webhooks (its sessions' own included), oldest first. */
  listWebhooks(tenant: string): Promise<WebhookRecord[]>;
  countWebhooks(tenant: string): Promise<number>;
  /** Removes it with its cursors and log. False when there was none. */
  deleteWebhook(id: string): Promise<boolean>;
  /**
   * Claims up to `limit` cursors with undelivered events, due by `now`, of webhooks not paused, until `now +
   * leaseMs`: no other worker (another node) takes them meanwhile. Most overdue first.
   */
  claimDue(now: number, leaseMs: number, limit: number): Promise<DueDelivery[]>;
  /**
   * Writes an attempt's result (log row, cursor, webhook's failure count or pause) and releases the claim. A
   * cursor that reached the end of a final session's log (failed, or stopped with its sandbox gone) is removed.
   */
  recordOutcome(outcome: DeliveryOutcome, now: number): Promise<void>;
  /** The log, newest first; `before` is a delivery id (the previous page's last). */
  listDeliveries(webhookId: string, query: { before?: string; limit: number }): Promise<DeliveryRecord[]>;
  /** Its cursors, failing ones first, at most `limit` (default 100). */
  listCursors(webhookId: string, limit?: number): Promise<WebhookCursor[]>;
  /** Unpauses it: failures forgotten, every cursor due at once (from where it stopped). False when none. */
  resumeWebhook(id: string): Promise<boolean>;
}

/** A webhook as the API shows it (`secret` only in the answer to its creation). */
export interface WebhookView {
  id: string;
  url: string;
  events: string[] | null;
  sessionMetadata: Record<string, string>;
  sessionId: string | null;
  createdAt: string;
  paused: { reason: string; at: string } | null;
  consecutiveFailures: number;
  secret?: string;
}

export interface DeliveryView {
  id: string;
  sessionId: string;
  firstSeq: number;
  lastSeq: number;
  eventCount: number;
  attempt: number;
  statusCode: number | null;
  ok: boolean;
  error: string | null;
  durationMs: number;
  at: string;
  nextRetryAt: string | null;
}

/** `GET /v1/webhooks/:id/deliveries`. */
export interface DeliveriesPage {
  deliveries: DeliveryView[];
  /** Pass as `before` for the next page; null on the last one. */
  nextCursor: string | null;
  /** Where each followed session stands (failing ones first, at most 100). */
  sessions: Array<{ sessionId: string; deliveredSeq: number; attempt: number; nextRetryAt: string | null; lastError: string | null }>;
}

/**
 * The body of a delivery: one session's events in seq order. `events` are the API's events, each with its
 * `seq`: a receiver deduplicates by (sessionId, seq). Gaps in seq are events of other types (`events` filter).
 */
export interface WebhookDelivery {
  webhookId: string;
  deliveryId: string;
  sessionId: string;
  events: Array<{ seq: number; sessionId: string; at: string; type: string; turnId?: string; data: unknown }>;
}
