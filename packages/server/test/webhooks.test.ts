/**
 * Webhook delivery end to end, through the public API with real processes: a receiver process that fails the
 * first deliveries and is killed and started again mid-stream, while the server is SIGKILLed and restarted too.
 * The receiver ends with every event exactly once after deduplication by (session, seq), in seq order per
 * session; the delivery log shows the failures and the batches. Once on SQLite, once on PostgreSQL.
 */
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type TestServer, removeDir, startServer, storeKinds } from "./harness.ts";
import { ReceiverProcess, dedup, until } from "./webhook-receivers.ts";

const settings = {
  AIRLOCK_WEBHOOK_TIMEOUT_MS: "2000",
  AIRLOCK_WEBHOOK_BACKOFF_MS: "100",
  AIRLOCK_WEBHOOK_MAX_BACKOFF_MS: "800",
  AIRLOCK_WEBHOOK_MAX_ATTEMPTS: "10000",
  AIRLOCK_WEBHOOK_BATCH_SIZE: "25",
};

/** A port nothing listens on yet (the receiver takes it later: deliveries before that are refused). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

describe.each(storeKinds)("webhook delivery across failures and restarts (%s store)", (store) => {
  let server: TestServer | undefined;
  let receiver: ReceiverProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), "airlock-webhooks-"));
  afterAll(async () => {
    await receiver?.kill();
    await server?.stop();
    if (server) removeDir(server.dataDir);
    removeDir(dir);
  });

  it("ends with every event exactly once after dedup, in order per session", async () => {
    server = await startServer(settings, undefined, { store });
    let secret = "";
    receiver = new ReceiverProcess(join(dir, "received.jsonl"), () => secret);
    receiver.port = await freePort();
    const created = await server.api("POST", "/v1/webhooks", { url: receiver.url });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    secret = created.body.secret;
    expect(secret).toMatch(/^whsec_/);
    const webhookId = created.body.id as string;

    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const s = await server.api("POST", "/v1/sessions", { agent: "scripted" });
      expect(s.status).toBe(201);
      ids.push(s.body.id);
    }
    for (const id of ids) {
      await until(async () => (await server!.api("GET", `/v1/sessions/${id}`)).body.status === "ready", 30_000, "ready");
      expect((await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "burst 600 rate 100" })).status).toBe(202);
    }

    // Refused while nobody listens; then 500 for the first three; then accepted, slowly (batches build up), until
    // it dies right after storing its 4th delivery, before answering: that batch must come again.
    await new Promise((r) => setTimeout(r, 700));
    await receiver.start({ FAIL_FIRST: 3, SLOW_MS: 100, CRASH_AFTER: 4 });
    await receiver.exited;
    // Mid-stream: the turns are still going when the server goes down.
    const before = await Promise.all(ids.map(async (id) => (await server!.api("GET", `/v1/sessions/${id}`)).body));
    expect(before.map((v) => v.status)).toEqual(["running", "running"]);
    await server.kill();
    await new Promise((r) => setTimeout(r, 500));
    await server.restart();
    await receiver.start({ SLOW_MS: 20 });

    // Done when each session is ready with its turn ended and the receiver has every seq of it.
    const sessions = await until(
      async () => {
        const got = receiver!.events();
        const views = await Promise.all(ids.map(async (id) => (await server!.api("GET", `/v1/sessions/${id}`)).body));
        const complete = views.every(
          (v) => v.status === "ready" && v.queuedTurns === 0 && got.some((e) => e.s === v.id && e.t === "turn.ended") && new Set(got.filter((e) => e.s === v.id).map((e) => e.q)).size === v.lastSeq,
        );
        return complete && views;
      },
      90_000,
      "every event delivered",
    );

    const all = receiver.events().map((e) => ({ session: e.s, seq: e.q, type: e.t }));
    expect(all.some((e: any) => e.badSignature)).toBe(false);
    const unique = dedup(all);
    // The batch stored but not answered came again: duplicates, and still nothing missing.
    expect(all.length - unique.length).toBeGreaterThan(0);
    for (const view of sessions) {
      const mine = unique.filter((e) => e.session === view.id);
      // Exactly once after dedup, and in seq order as first received.
      expect(mine.map((e) => e.seq)).toEqual(Array.from({ length: view.lastSeq }, (_, i) => i + 1));
      const log = (await server.api("GET", `/v1/sessions/${view.id}/events?limit=1000`)).body.events as Array<{ type: string }>;
      expect(mine.map((e) => e.type)).toEqual(log.map((e) => e.type));
      expect(mine.filter((e) => e.type === "update").length).toBeGreaterThanOrEqual(600);
    }

    // The log shows refusals, the 500s with their retry times, and batches of several events.
    const deliveries = (await server.api("GET", `/v1/webhooks/${webhookId}/deliveries?limit=200`)).body;
    const failed = deliveries.deliveries.filter((d: any) => !d.ok);
    expect(failed.some((d: any) => d.statusCode === 500 && d.error.startsWith("HTTP 500") && d.nextRetryAt)).toBe(true);
    expect(failed.some((d: any) => d.statusCode === null && /request failed/.test(d.error))).toBe(true);
    expect(deliveries.deliveries.some((d: any) => d.ok && d.eventCount > 1 && d.lastSeq - d.firstSeq + 1 === d.eventCount)).toBe(true);
    expect(deliveries.sessions.map((c: any) => c.sessionId).sort()).toEqual([...ids].sort());
    const hook = (await server.api("GET", `/v1/webhooks/${webhookId}`)).body;
    expect(hook).toMatchObject({ id: webhookId, paused: null, consecutiveFailures: 0 });
    expect(hook.secret).toBeUndefined();
  }, 180_000);
});
