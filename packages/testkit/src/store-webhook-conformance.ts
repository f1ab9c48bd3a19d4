/**
 * @module store-webhook-conformance — what every `StoreV1` must do with webhooks (schema 4): cursors made for the
 * sessions a webhook follows, claims that no two workers share, outcomes written whole (log, cursor, failures,
 * pause), resume, and deletion with everything of the webhook.
 *
 * @example
 * describeWebhookConformance("sqlite (memory)", async () => createSqliteStore({ path: ":memory:" }));
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type DeliveryRecord, type StoreV1, type WebhookRecord, newId } from "@airlock/protocol";
import { chunk, sessionRecord, useStore } from "./store-fixtures.ts";

export function webhookRecord(over: Partial<WebhookRecord> = {}): WebhookRecord {
  return {
    id: newId("webhook"),
    tenant: "t1",
    url: "http://127.0.0.1:9/hook",
    secret: "whsec_test",
    events: null,
    sessionMetadata: {},
    sessionId: null,
    createdAt: Date.now(),
    failures: 0,
    failingSince: null,
    paused: null,
    ...over,
  };
}

const delivery = (w: WebhookRecord, sessionId: string, over: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  id: newId("delivery"),
  webhookId: w.id,
  sessionId,
  firstSeq: 1,
  lastSeq: 2,
  eventCount: 2,
  attempt: 1,
  statusCode: 200,
  ok: true,
  error: null,
  durationMs: 5,
  at: Date.now(),
  nextRetryAt: null,
  ...over,
});

export function describeWebhookConformance(name: string, make: () => Promise<StoreV1>): void {
  describe(`store webhook conformance: ${name}`, () => {
    const current = useStore(make);
    let store: StoreV1;
    beforeEach(() => {
      store = current();
    });

    it("stores a webhook and lists it per tenant, deletes it with its cursors and log", async () => {
      const w = webhookRecord({ events: ["session.status", "turn.ended"], sessionMetadata: { team: "red" } });
      await store.webhooks.createWebhook(w);
      await store.webhooks.createWebhook(webhookRecord({ tenant: "t2" }));
      expect(await store.webhooks.getWebhook(w.id)).toEqual(w);
      expect((await store.webhooks.listWebhooks("t1")).map((x) => x.id)).toEqual([w.id]);
      expect(await store.webhooks.countWebhooks("t1")).toBe(1);
      const s = sessionRecord({ metadata: { team: "red" } });
      await store.createSession(s, [chunk("a")]);
      const [due] = await store.webhooks.claimDue(Date.now(), 1000, 10);
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: s.id, deliveredSeq: 1, delivery: delivery(w, s.id) }, Date.now());
      expect(due.cursor).toMatchObject({ webhookId: w.id, sessionId: s.id, deliveredSeq: 0 });
      expect(await store.webhooks.deleteWebhook(w.id)).toBe(true);
      expect(await store.webhooks.deleteWebhook(w.id)).toBe(false);
      expect(await store.webhooks.getWebhook(w.id)).toBeNull();
      expect(await store.webhooks.listCursors(w.id)).toEqual([]);
      expect(await store.webhooks.listDeliveries(w.id, { limit: 10 })).toEqual([]);
      // An outcome for a webhook deleted meanwhile (a delivery in flight) is dropped, not an error.
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: s.id, deliveredSeq: 1, delivery: delivery(w, s.id) }, Date.now());
    });

    it("follows new sessions from seq 0 when their metadata matches, live ones from their current end", async () => {
      const live = sessionRecord({ metadata: { team: "red" } });
      await store.createSession(live, [chunk("1"), chunk("2")]);
      const ended = sessionRecord({ metadata: { team: "red" }, status: "stopped" });
      await store.createSession(ended, [chunk("1")]);
      const w = webhookRecord({ sessionMetadata: { team: "red" } });
      await store.webhooks.createWebhook(w);
      const red = sessionRecord({ metadata: { team: "red", env: "prod" } });
      const blue = sessionRecord({ metadata: { team: "blue" } });
      const otherTenant = sessionRecord({ tenant: "t2", metadata: { team: "red" } });
      for (const s of [red, blue, otherTenant]) await store.createSession(s, [chunk("x")]);
      const cursors = await store.webhooks.listCursors(w.id);
      expect(cursors.map((c) => [c.sessionId, c.deliveredSeq]).sort()).toEqual([[live.id, 2], [red.id, 0]].sort());
    });

    it("gives a session its own webhook in the same transaction as the session", async () => {
      const s = sessionRecord();
      const own = webhookRecord({ sessionId: s.id, events: ["turn.ended"] });
      await store.createSession(s, [chunk("x")], own);
      expect(await store.webhooks.getWebhook(own.id)).toEqual(own);
      expect((await store.webhooks.listCursors(own.id)).map((c) => c.sessionId)).toEqual([s.id]);
      // Not a second session's.
      await store.createSession(sessionRecord(), [chunk("y")]);
      expect(await store.webhooks.listCursors(own.id)).toHaveLength(1);
      expect(await store.webhooks.countWebhooks("t1")).toBe(0);
    });

    it("claims due cursors once until the lease ends, only where the log is ahead", async () => {
      const w = webhookRecord();
      await store.webhooks.createWebhook(w);
      const a = sessionRecord();
      const b = sessionRecord();
      await store.createSession(a, [chunk("1"), chunk("2")]);
      await store.createSession(b, []);
      const now = Date.now();
      const claimed = await store.webhooks.claimDue(now, 5000, 10);
      expect(claimed.map((d) => [d.cursor.sessionId, d.lastSeq])).toEqual([[a.id, 2]]);
      expect(claimed[0].webhook).toEqual(w);
      expect(await store.webhooks.claimDue(now, 5000, 10)).toEqual([]);
      expect(await store.webhooks.claimDue(now + 5001, 5000, 10)).toHaveLength(1);
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: a.id, deliveredSeq: 2, delivery: delivery(w, a.id) }, now);
      expect(await store.webhooks.claimDue(now + 20_000, 5000, 10)).toEqual([]);
      await store.commit(a.id, { events: [chunk("3")] });
      expect((await store.webhooks.claimDue(now + 20_000, 5000, 10)).map((d) => d.cursor.deliveredSeq)).toEqual([2]);
    });

    it("counts failures, backs a cursor off, pauses with a reason, and resumes from where it stopped", async () => {
      const w = webhookRecord();
      await store.webhooks.createWebhook(w);
      const s = sessionRecord();
      await store.createSession(s, [chunk("1")]);
      const now = Date.now();
      await store.webhooks.claimDue(now, 1000, 10);
      const failed = delivery(w, s.id, { ok: false, statusCode: 500, error: "HTTP 500", nextRetryAt: now + 2000 });
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: s.id, delivery: failed, retryAt: now + 2000, error: "HTTP 500" }, now);
      expect(await store.webhooks.getWebhook(w.id)).toMatchObject({ failures: 1, failingSince: now, paused: null });
      expect(await store.webhooks.listCursors(w.id)).toEqual([
        { webhookId: w.id, sessionId: s.id, deliveredSeq: 0, attempt: 1, nextAttemptAt: now + 2000, lastError: "HTTP 500" },
      ]);
      expect(await store.webhooks.claimDue(now + 1999, 1000, 10)).toEqual([]);
      expect(await store.webhooks.claimDue(now + 2000, 1000, 10)).toHaveLength(1);
      const pause = { reason: "2 failed deliveries in a row", at: now + 2001 };
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: s.id, delivery: { ...failed, id: newId("delivery"), attempt: 2 }, retryAt: now + 6000, error: "refused", pause }, now + 2001);
      expect(await store.webhooks.getWebhook(w.id)).toMatchObject({ failures: 2, failingSince: now, paused: pause });
      expect(await store.webhooks.claimDue(now + 60_000, 1000, 10)).toEqual([]);
      const log = await store.webhooks.listDeliveries(w.id, { limit: 10 });
      expect(log.map((d) => d.attempt)).toEqual([2, 1]);
      expect(log[1]).toEqual(failed);
      expect(await store.webhooks.listDeliveries(w.id, { limit: 10, before: log[0].id })).toEqual([failed]);

      expect(await store.webhooks.resumeWebhook(w.id)).toBe(true);
      expect(await store.webhooks.getWebhook(w.id)).toMatchObject({ failures: 0, failingSince: null, paused: null });
      const [again] = await store.webhooks.claimDue(now + 2002, 1000, 10);
      expect(again.cursor).toMatchObject({ deliveredSeq: 0, attempt: 0 });
      expect(await store.webhooks.resumeWebhook(newId("webhook"))).toBe(false);
    });

    it("a success resets the webhook's failures; a cursor never moves back", async () => {
      const w = webhookRecord();
      await store.webhooks.createWebhook(w);
      const s = sessionRecord();
      await store.createSession(s, [chunk("1"), chunk("2"), chunk("3")]);
      const now = Date.now();
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: s.id, delivery: delivery(w, s.id, { ok: false }), retryAt: now, error: "x" }, now);
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: s.id, deliveredSeq: 3, delivery: delivery(w, s.id) }, now);
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: s.id, deliveredSeq: 2 }, now);
      expect(await store.webhooks.getWebhook(w.id)).toMatchObject({ failures: 0, failingSince: null });
      expect((await store.webhooks.listCursors(w.id))[0]).toMatchObject({ deliveredSeq: 3, attempt: 0, lastError: null });
    });

    it("removes a cursor once it reached the end of a final session's log, not before", async () => {
      const w = webhookRecord();
      await store.webhooks.createWebhook(w);
      const s = sessionRecord();
      await store.createSession(s, [chunk("1"), chunk("2")]);
      const now = Date.now();
      await store.commit(s.id, { events: [{ type: "session.status", data: { status: "stopped" } }], session: { status: "stopped" } });
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: s.id, deliveredSeq: 2, delivery: delivery(w, s.id) }, now);
      expect((await store.webhooks.listCursors(w.id)).map((c) => c.deliveredSeq)).toEqual([2]);
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: s.id, deliveredSeq: 3, delivery: delivery(w, s.id, { firstSeq: 3, lastSeq: 3 }) }, now);
      expect(await store.webhooks.listCursors(w.id)).toEqual([]);
      // A session stopped with its sandbox kept may run again: its cursor stays.
      const kept = sessionRecord({ sandbox: { provider: "local", id: "sbx", data: {} } });
      await store.createSession(kept, [chunk("1")]);
      await store.commit(kept.id, { events: [], session: { status: "stopped" } });
      await store.webhooks.recordOutcome({ webhookId: w.id, sessionId: kept.id, deliveredSeq: 1, delivery: delivery(w, kept.id) }, now);
      expect((await store.webhooks.listCursors(w.id)).map((c) => c.sessionId)).toEqual([kept.id]);
    });
  });
}
