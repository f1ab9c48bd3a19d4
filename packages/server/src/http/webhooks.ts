/**
 * @module webhooks — the `/v1/webhooks` routes: a tenant's webhooks, their delivery log, resume.
 */
import { Hono } from "hono";
import { AirlockError, CreateWebhook, type StoreV1, type WebhookRecord, badRequest, isId, notFound, webhookLimits } from "@airlock/protocol";
import { deliveryView, newWebhookRecord, webhookView } from "../webhooks/views.ts";
import type { Secrets } from "../secrets/index.ts";
import type { AuthVars } from "./auth.ts";
import { jsonBody } from "./errors.ts";

export interface WebhookRoutesDeps {
  store: StoreV1;
  /** Seals signing secrets: they are never stored in clear. */
  secrets: Pick<Secrets, "sealWebhookSecret">;
  /** Tells the delivery worker there is work now (a resumed webhook). */
  wake(): void;
}

export function webhookRoutes(deps: WebhookRoutesDeps) {
  const { store } = deps;
  const app = new Hono<{ Variables: AuthVars }>();

  // Another tenant's webhook looks exactly like a missing one.
  const find = async (tenant: string, id: string): Promise<WebhookRecord> => {
    const w = isId("webhook", id) ? await store.webhooks.getWebhook(id) : null;
    if (!w || w.tenant !== tenant) throw notFound(`no webhook ${id}`);
    return w;
  };

  app.post("/", async (c) => {
    const body = CreateWebhook.parse(await jsonBody(c));
    const tenant = c.get("tenant");
    if ((await store.webhooks.countWebhooks(tenant)) >= webhookLimits.maxWebhooksPerTenant) {
      throw new AirlockError("too_many_requests", `this tenant already has ${webhookLimits.maxWebhooksPerTenant} webhooks; delete some first`);
    }
    const { record, secret } = newWebhookRecord(tenant, body, (id, plain) => deps.secrets.sealWebhookSecret(id, plain));
    await store.webhooks.createWebhook(record);
    return c.json(webhookView(record, secret), 201);
  });

  app.get("/", async (c) => c.json({ webhooks: (await store.webhooks.listWebhooks(c.get("tenant"))).map((w) => webhookView(w)) }));

  app.get("/:id", async (c) => c.json(webhookView(await find(c.get("tenant"), c.req.param("id")))));

  app.delete("/:id", async (c) => {
    const w = await find(c.get("tenant"), c.req.param("id"));
    await store.webhooks.deleteWebhook(w.id);
    return c.json({ id: w.id, deleted: true });
  });

  app.post("/:id/resume", async (c) => {
    const w = await find(c.get("tenant"), c.req.param("id"));
    await store.webhooks.resumeWebhook(w.id);
    deps.wake();
    return c.json(webhookView((await store.webhooks.getWebhook(w.id)) ?? w));
  });

  app.get("/:id/deliveries", async (c) => {
    const w = await find(c.get("tenant"), c.req.param("id"));
    const before = c.req.query("before");
    if (before !== undefined && !isId("delivery", before)) throw badRequest("before must be a delivery id (dlv_…) from the previous page");
    const limitText = c.req.query("limit") ?? "50";
    const limit = Number(limitText);
    if (!/^\d{1,4}$/.test(limitText) || limit < 1 || limit > 200) throw badRequest("limit must be an integer from 1 to 200");
    const rows = await store.webhooks.listDeliveries(w.id, { ...(before ? { before } : {}), limit: limit + 1 });
    const page = rows.slice(0, limit);
    const cursors = await store.webhooks.listCursors(w.id);
    return c.json({
      deliveries: page.map(deliveryView),
      nextCursor: rows.length > limit ? page[page.length - 1].id : null,
      // Where each followed session stands: what was delivered, and when the next try is (failures only).
      sessions: cursors.map((cur) => ({
        sessionId: cur.sessionId,
        deliveredSeq: cur.deliveredSeq,
        attempt: cur.attempt,
        nextRetryAt: cur.attempt > 0 && cur.nextAttemptAt > 0 ? new Date(cur.nextAttemptAt).toISOString() : null,
        lastError: cur.lastError,
      })),
    });
  });

  return app;
}
