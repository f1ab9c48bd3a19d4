/**
 * @module sqlite-webhooks — the SQLite store's webhooks (statements in webhook-sql.ts).
 */
import type Database from "better-sqlite3";
import { type DueDelivery, type SessionRecord, type WebhookRecord, type WebhookStoreV1, webhookLimits } from "@airlock/protocol";
import { webhookQueries } from "./webhook-sql.ts";
import { deliveryParams, toCursor, toDelivery, toWebhook, webhookParams } from "./webhook-rows.ts";

type Row = Record<string, any>;
type Statements = Record<keyof typeof webhookQueries, Database.Statement>;

export interface SqliteWebhooks extends WebhookStoreV1 {
  /** Inside `createSession`'s transaction: the session's own webhook, and the cursors of all that follow it. */
  attachSession(session: SessionRecord, webhook?: WebhookRecord): void;
}

export function sqliteWebhooks(db: Database.Database): SqliteWebhooks {
  // Prepared on first use: the tables exist only once `migrate()` has run.
  let prepared: Statements | null = null;
  const st = (): Statements =>
    (prepared ??= Object.fromEntries(Object.entries(webhookQueries).map(([name, text]) => [name, db.prepare(text)])) as Statements);

  const createTx = db.transaction((w: WebhookRecord) => {
    const params = webhookParams(w);
    st().insertWebhook.run(params);
    st().attachLiveSessions.run({ id: w.id, tenant: w.tenant, sessionMetadata: params.sessionMetadata });
  });

  // IMMEDIATE: two processes on one file never claim the same cursor.
  const claimTx = db.transaction((now: number, leaseMs: number, limit: number): DueDelivery[] => {
    const rows = st().dueCursors.all({ now, limit }) as Row[];
    return rows.map((r) => {
      st().claimCursor.run({ until: now + leaseMs, webhookId: r.id, sessionId: r.cursor_session_id });
      return {
        webhook: toWebhook(r),
        cursor: toCursor({ ...r, webhook_id: r.id, session_id: r.cursor_session_id }),
        lastSeq: r.session_last_seq,
      };
    });
  });

  const outcomeTx = db.transaction((o: Parameters<WebhookStoreV1["recordOutcome"]>[0], now: number) => {
    const s = st();
    const key = { webhookId: o.webhookId, sessionId: o.sessionId };
    if (o.delivery) {
      s.insertDelivery.run(deliveryParams(o.delivery));
      s.pruneDeliveries.run({ webhookId: o.webhookId, keep: webhookLimits.keptDeliveries });
    }
    if (o.deliveredSeq !== undefined) {
      s.cursorDelivered.run({ ...key, seq: o.deliveredSeq });
      s.retireCursor.run(key);
      if (o.delivery) s.webhookSucceeded.run({ webhookId: o.webhookId });
    } else {
      s.cursorFailed.run({ ...key, retryAt: o.retryAt ?? now, error: o.error ?? null });
      s.webhookFailed.run({ webhookId: o.webhookId, now, pausedAt: o.pause?.at ?? null, pausedReason: o.pause?.reason ?? null });
    }
  });

  const resumeTx = db.transaction((id: string) => {
    const changed = st().resumeWebhook.run(id).changes > 0;
    if (changed) st().resumeCursors.run(id);
    return changed;
  });

  return {
    attachSession(session, webhook) {
      if (webhook) st().insertWebhook.run(webhookParams(webhook));
      st().attachSession.run({ sessionId: session.id, tenant: session.tenant, metadata: JSON.stringify(session.metadata) });
    },
    async createWebhook(record) {
      createTx.immediate(record);
    },
    async getWebhook(id) {
      const row = st().getWebhook.get(id) as Row | undefined;
      return row ? toWebhook(row) : null;
    },
    async listWebhooks(tenant) {
      return (st().listWebhooks.all(tenant) as Row[]).map(toWebhook);
    },
    async countWebhooks(tenant) {
      return (st().countWebhooks.get(tenant) as Row).n;
    },
    async deleteWebhook(id) {
      return st().deleteWebhook.run(id).changes > 0;
    },
    async claimDue(now, leaseMs, limit) {
      return claimTx.immediate(now, leaseMs, limit);
    },
    async recordOutcome(outcome, now) {
      outcomeTx.immediate(outcome, now);
    },
    async listDeliveries(webhookId, query) {
      return (st().listDeliveries.all({ webhookId, before: query.before ?? null, limit: query.limit }) as Row[]).map(toDelivery);
    },
    async listCursors(webhookId, limit = 100) {
      return (st().listCursors.all(webhookId, limit) as Row[]).map(toCursor);
    },
    async resumeWebhook(id) {
      return resumeTx.immediate(id);
    },
  };
}
