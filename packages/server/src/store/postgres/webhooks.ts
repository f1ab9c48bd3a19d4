/**
 * @module postgres/webhooks — the PostgreSQL store's webhooks (statements in webhook-sql.ts).
 */
import type pg from "pg";
import { type SessionRecord, type WebhookRecord, type WebhookStoreV1, webhookLimits } from "@airlock/protocol";
import { deliveryParams, toCursor, toDelivery, toWebhook, webhookParams } from "../webhook-rows.ts";
import { run } from "./commit.ts";
import { isServerError } from "./errors.ts";
import { type Statement, compile } from "./sql.ts";
import { type WebhookQueryName, webhookStatements } from "./webhook-sql.ts";

const webhookQueries = Object.fromEntries(Object.entries(webhookStatements).map(([name, text]) => [name, compile(`wh_${name}`, text)])) as Record<
  WebhookQueryName,
  Statement
>;

type Row = Record<string, any>;
export type Step = [Statement, Record<string, unknown>];

/** The steps `createSession` adds to its transaction: the session's own webhook, the cursors that follow it. */
export function attachSessionSteps(session: SessionRecord, webhook?: WebhookRecord): Step[] {
  const steps: Step[] = webhook ? [[webhookQueries.insertWebhook, webhookParams(webhook)]] : [];
  steps.push([webhookQueries.attachSession, { sessionId: session.id, tenant: session.tenant, metadata: JSON.stringify(session.metadata) }]);
  return steps;
}

export function postgresWebhooks(pool: pg.Pool, translate: (error: unknown) => unknown): WebhookStoreV1 {
  const q = async (name: WebhookQueryName, values: Record<string, unknown>): Promise<pg.QueryResult<Row>> => {
    try {
      return await run(pool, webhookQueries[name], values);
    } catch (error) {
      throw translate(error);
    }
  };
  /** Statements in order in one transaction on one connection; returns each result. */
  const transaction = async (steps: Array<[WebhookQueryName, Record<string, unknown>]>): Promise<pg.QueryResult<Row>[]> => {
    const client = await pool.connect().catch((error) => Promise.reject(translate(error)));
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const results: pg.QueryResult<Row>[] = [];
      for (const [name, values] of steps) results.push(await run(client, webhookQueries[name], values));
      await client.query("COMMIT");
      return results;
    } catch (error) {
      await client.query("ROLLBACK").catch((err: Error) => (broken = err));
      if (!broken && !isServerError(error)) broken = error as Error;
      throw translate(error);
    } finally {
      client.release(broken);
    }
  };

  return {
    async createWebhook(record) {
      const params = webhookParams(record);
      await transaction([
        ["insertWebhook", params],
        ["attachLiveSessions", { id: record.id, tenant: record.tenant, sessionMetadata: params.sessionMetadata }],
      ]);
    },
    async getWebhook(id) {
      const { rows } = await q("getWebhook", { id });
      return rows[0] ? toWebhook(rows[0]) : null;
    },
    async listWebhooks(tenant) {
      return (await q("listWebhooks", { tenant })).rows.map(toWebhook);
    },
    async countWebhooks(tenant) {
      return (await q("countWebhooks", { tenant })).rows[0].n;
    },
    async deleteWebhook(id) {
      return ((await q("deleteWebhook", { id })).rowCount ?? 0) > 0;
    },
    async claimDue(now, leaseMs, limit) {
      const { rows } = await q("claimDue", { now, until: now + leaseMs, limit });
      return rows
        .map((r) => ({ webhook: toWebhook(r), cursor: toCursor({ ...r, webhook_id: r.id, session_id: r.cursor_session_id }), lastSeq: r.session_last_seq as number }))
        .sort((a, b) => a.cursor.nextAttemptAt - b.cursor.nextAttemptAt);
    },
    async recordOutcome(o, now) {
      const key = { webhookId: o.webhookId, sessionId: o.sessionId };
      const steps: Array<[WebhookQueryName, Record<string, unknown>]> = [];
      if (o.delivery) {
        steps.push(["insertDelivery", deliveryParams(o.delivery)], ["pruneDeliveries", { webhookId: o.webhookId, keep: webhookLimits.keptDeliveries }]);
      }
      if (o.deliveredSeq !== undefined) {
        steps.push(["cursorDelivered", { ...key, seq: o.deliveredSeq }], ["retireCursor", key]);
        if (o.delivery) steps.push(["webhookSucceeded", { webhookId: o.webhookId }]);
      } else {
        steps.push(["cursorFailed", { ...key, retryAt: o.retryAt ?? now, error: o.error ?? null }]);
        steps.push(["webhookFailed", { webhookId: o.webhookId, now, pausedAt: o.pause?.at ?? null, pausedReason: o.pause?.reason ?? null }]);
      }
      await transaction(steps);
    },
    async listDeliveries(webhookId, query) {
      return (await q("listDeliveries", { webhookId, before: query.before ?? null, limit: query.limit })).rows.map(toDelivery);
    },
    async listCursors(webhookId, limit = 100) {
      return (await q("listCursors", { webhookId, limit })).rows.map(toCursor);
    },
    async resumeWebhook(id) {
      const [resumed] = await transaction([
        ["resumeWebhook", { id }],
        ["resumeCursors", { id }],
      ]);
      return (resumed.rowCount ?? 0) > 0;
    },
  };
}
