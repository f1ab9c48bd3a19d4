/**
 * Webhooks through the public API (real server process, the scripted agent, receivers on loopback): signatures
 * a receiver can check, a pause after failures in a row and a resume from where it stopped, event type filters
 * (a webhook's `events`, `?types=` on JSON pages and SSE, the SDK's `types`), tenant isolation, and refusals of
 * bad input that name the field and change nothing.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirlockClient, type AirlockEvent, verifyWebhookSignature } from "@airlock/client";
import { verifySignature } from "../src/webhooks/signature.ts";
import { type TestServer, filesHolding, removeDir, startServer } from "./harness.ts";
import { startCapture, until } from "./webhook-receivers.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    AIRLOCK_API_KEYS: "a:key-a,b:key-b",
    AIRLOCK_WEBHOOK_TIMEOUT_MS: "2000",
    AIRLOCK_WEBHOOK_BACKOFF_MS: "50",
    AIRLOCK_WEBHOOK_MAX_BACKOFF_MS: "200",
    AIRLOCK_WEBHOOK_MAX_ATTEMPTS: "3",
    AIRLOCK_WEBHOOK_PAUSE_AFTER_SEC: "0",
  });
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const as = (tenant: "a" | "b") => (method: string, path: string, body?: unknown) => server.api(method, path, body, { authorization: `Bearer key-${tenant}` });
const a = as("a");
const b = as("b");

async function readySession(api: typeof a, body: Record<string, unknown> = {}) {
  const res = await api("POST", "/v1/sessions", { agent: "scripted", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await until(async () => (await api("GET", `/v1/sessions/${res.body.id}`)).body.status === "ready", 30_000, "ready");
  return res.body;
}

/** Prompts and waits until the turn ended and the session settled. */
async function turn(api: typeof a, id: string, text: string) {
  const { turnId } = (await api("POST", `/v1/sessions/${id}/prompt`, { text })).body;
  return until(
    async () => {
      const v = (await api("GET", `/v1/sessions/${id}`)).body;
      const events = (await api("GET", `/v1/sessions/${id}/events?types=turn.ended&limit=1000`)).body.events;
      return v.status === "ready" && events.some((e: any) => e.data.turnId === turnId) && v;
    },
    30_000,
    "the turn's end",
  );
}

describe("webhooks", () => {
  it("signs each delivery with the secret given once: HMAC-SHA256 of `<t>.<body>`, a fresh timestamp", async () => {
    const capture = await startCapture();
    try {
      const session = await readySession(a, { webhook: { url: capture.url } });
      expect(session.webhook).toMatchObject({ url: capture.url, sessionId: session.id, events: null, paused: null });
      const { id: webhookId, secret } = session.webhook;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      await until(() => capture.requests.length > 0, 10_000, "a delivery");
      const req = capture.requests[0];
      const header = String(req.headers["airlock-signature"]);
      const m = header.match(/^t=(\d+),v1=([0-9a-f]{64})$/)!;
      expect(m, header).not.toBeNull();
      expect(Math.abs(Number(m[1]) - Date.now() / 1000)).toBeLessThan(30);
      expect(m[2]).toBe(createHmac("sha256", secret).update(`${m[1]}.${req.body}`).digest("hex"));
      expect(verifySignature(secret, req.body, header)).toBe(true);
      expect(verifySignature(secret, req.body.replace('"seq":1', '"seq":2'), header)).toBe(false);
      expect(verifySignature("whsec_other", req.body, header)).toBe(false);
      // A replay later than the tolerance is refused by its timestamp.
      expect(verifySignature(secret, req.body, header, 300, Number(m[1]) + 301)).toBe(false);
      // The SDK's check (WebCrypto) agrees.
      expect(await verifyWebhookSignature(secret, req.body, header)).toBe(true);
      expect(await verifyWebhookSignature(secret, `${req.body} `, header)).toBe(false);
      expect(await verifyWebhookSignature(secret, req.body, header, { nowSec: Number(m[1]) + 301 })).toBe(false);
      const body = JSON.parse(req.body);
      expect(body).toMatchObject({ webhookId, sessionId: session.id, deliveryId: req.headers["airlock-delivery-id"] });
      expect(req.headers["airlock-webhook-id"]).toBe(webhookId);
      expect(req.headers["content-type"]).toBe("application/json");
      expect(body.events[0]).toMatchObject({ seq: 1, sessionId: session.id, type: "session.status", data: { status: "provisioning" } });
      // Listed for its tenant with its session, the secret never again.
      const listed = (await a("GET", "/v1/webhooks")).body.webhooks.find((w: any) => w.id === webhookId);
      expect(listed).toMatchObject({ sessionId: session.id });
      expect(listed.secret).toBeUndefined();
      expect(JSON.stringify((await a("GET", `/v1/sessions/${session.id}`)).body)).not.toContain(secret);
      expect(server.log()).not.toContain(secret);
      // Stored sealed: the data folder (database, its WAL) holds no signing secret in clear.
      expect(filesHolding(server.dataDir, secret)).toEqual([]);
    } finally {
      await capture.close();
    }
  });

  it("pauses a receiver that keeps failing, with a reason, and resumes from where it stopped", async () => {
    let failing = true;
    const capture = await startCapture(() => (failing ? 503 : 200));
    try {
      const hook = (await a("POST", "/v1/webhooks", { url: capture.url, sessionMetadata: { suite: "pause" } })).body;
      const session = await readySession(a, { metadata: { suite: "pause" } });
      const paused = await until(async () => (await a("GET", `/v1/webhooks/${hook.id}`)).body.paused && (await a("GET", `/v1/webhooks/${hook.id}`)).body, 20_000, "a pause");
      expect(paused.paused.reason).toMatch(/^3 deliveries failed in a row since .* \(last: HTTP 503\)/);
      expect(paused.consecutiveFailures).toBe(3);
      const log = (await a("GET", `/v1/webhooks/${hook.id}/deliveries`)).body;
      expect(log.deliveries.map((d: any) => [d.ok, d.statusCode, d.attempt])).toEqual([
        [false, 503, 3],
        [false, 503, 2],
        [false, 503, 1],
      ]);
      expect(log.deliveries[0].nextRetryAt).toBeNull();
      expect(log.deliveries[1].nextRetryAt).not.toBeNull();
      expect(log.sessions).toEqual([expect.objectContaining({ sessionId: session.id, deliveredSeq: 0, attempt: 3, lastError: "HTTP 503" })]);
      // Paused: nothing more is tried, while the session goes on.
      const tried = capture.requests.length;
      const { lastSeq } = await turn(a, session.id, "think about it");
      await new Promise((r) => setTimeout(r, 700));
      expect(capture.requests.length).toBe(tried);

      failing = false;
      const resumed = await new AirlockClient({ baseUrl: server.url, apiKey: "key-a" }).webhooks.resume(hook.id);
      expect(resumed).toMatchObject({ paused: null, consecutiveFailures: 0 });
      const got = await until(() => {
        const seqs = capture.accepted().map((e) => e.seq);
        return seqs.length >= lastSeq && seqs;
      }, 20_000, "the events held back");
      expect(got).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    } finally {
      await capture.close();
    }
  });

  it("follows only some event types: a webhook's events, ?types= on pages and SSE, the SDK's types", async () => {
    const capture = await startCapture();
    try {
      const types = ["session.status", "turn.ended"] as const;
      const hook = (await a("POST", "/v1/webhooks", { url: capture.url, events: [...types], sessionMetadata: { suite: "types" } })).body;
      expect(hook.events).toEqual([...types]);
      const session = await readySession(a, { metadata: { suite: "types" } });
      const { lastSeq } = await turn(a, session.id, "burst 50");
      const all = (await a("GET", `/v1/sessions/${session.id}/events?limit=1000`)).body.events as AirlockEvent[];
      expect(all).toHaveLength(lastSeq);
      const wanted = all.filter((e) => (types as readonly string[]).includes(e.type));
      expect(wanted.length).toBeGreaterThanOrEqual(4);
      expect(wanted.length).toBeLessThan(all.length);

      const page = (await a("GET", `/v1/sessions/${session.id}/events?types=turn.ended,session.status&limit=1000`)).body;
      expect(page.events).toEqual(wanted);
      expect(page.nextAfter).toBe(lastSeq);
      const small = (await a("GET", `/v1/sessions/${session.id}/events?types=turn.ended,session.status&limit=2&after=${wanted[0].seq}`)).body;
      expect(small).toEqual({ events: wanted.slice(1, 3), nextAfter: wanted[2].seq });

      await until(() => capture.accepted().length >= wanted.length, 10_000, "the filtered deliveries");
      expect(capture.accepted().map((e) => [e.seq, e.type])).toEqual(wanted.map((e) => [e.seq, e.type]));

      // SSE through the SDK: only those types, then resumed from an event's seq (Last-Event-ID) exactly.
      const client = new AirlockClient({ baseUrl: server.url, apiKey: "key-a" });
      const read = async (after: number) => {
        const out: AirlockEvent[] = [];
        const stop = new AbortController();
        for await (const e of client.sessions.events(session.id, { after, types: [...types], signal: stop.signal })) {
          out.push(e);
          if (out.at(-1)!.seq === wanted.at(-1)!.seq) stop.abort();
        }
        return out;
      };
      expect(await read(0)).toEqual(wanted);
      expect(await read(wanted[1].seq)).toEqual(wanted.slice(2));
      expect((await client.sessions.readEvents(session.id, { types: ["turn.ended"] })).events.map((e) => e.type)).toEqual(["turn.ended"]);

      const bad = await a("GET", `/v1/sessions/${session.id}/events?types=turn.ended,nope`);
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/^types: unknown event type "nope"/);
    } finally {
      await capture.close();
    }
  });

  it("keeps each tenant's webhooks and sessions to itself", async () => {
    const capture = await startCapture();
    try {
      const hook = (await a("POST", "/v1/webhooks", { url: capture.url, sessionMetadata: { suite: "tenants" } })).body;
      const theirs = await readySession(b, { metadata: { suite: "tenants" } });
      const mine = await readySession(a, { metadata: { suite: "tenants" } });
      expect((await b("GET", "/v1/webhooks")).body.webhooks).toEqual([]);
      const sdkB = new AirlockClient({ baseUrl: server.url, apiKey: "key-b" });
      expect(await sdkB.webhooks.list()).toEqual([]);
      await expect(sdkB.webhooks.get(hook.id)).rejects.toMatchObject({ status: 404 });
      const sdkA = new AirlockClient({ baseUrl: server.url, apiKey: "key-a" });
      expect((await sdkA.webhooks.list()).map((w) => w.id)).toContain(hook.id);
      for (const [method, path] of [
        ["GET", `/v1/webhooks/${hook.id}`],
        ["GET", `/v1/webhooks/${hook.id}/deliveries`],
        ["POST", `/v1/webhooks/${hook.id}/resume`],
        ["DELETE", `/v1/webhooks/${hook.id}`],
      ]) {
        const res = await b(method, path);
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body.error.message).toBe(`no webhook ${hook.id}`);
      }
      expect((await a("GET", `/v1/webhooks/${hook.id}`)).status).toBe(200);
      await until(() => capture.accepted().some((e) => e.sessionId === mine.id && e.type === "session.status"), 10_000, "tenant a's events");
      await new Promise((r) => setTimeout(r, 500));
      expect(capture.accepted().some((e) => e.sessionId === theirs.id)).toBe(false);
      expect((await a("GET", `/v1/webhooks/${hook.id}/deliveries`)).body.sessions.map((s: any) => s.sessionId)).toEqual([mine.id]);
      // Deleted: gone for its tenant, nothing more delivered.
      expect((await a("DELETE", `/v1/webhooks/${hook.id}`)).body).toEqual({ id: hook.id, deleted: true });
      expect((await a("GET", `/v1/webhooks/${hook.id}`)).status).toBe(404);
    } finally {
      await capture.close();
    }
  });

  it("refuses bad input with a 4xx that names the field, and makes nothing", async () => {
    const before = (await a("GET", "/v1/webhooks")).body.webhooks.length;
    const sessionsBefore = (await a("GET", "/v1/sessions?limit=200")).body.sessions.length;
    const cases: Array<[unknown, RegExp]> = [
      [{}, /^invalid url: /],
      [{ url: "ftp://example.com/x" }, /^invalid url: must be http:\/\/ or https:\/\//],
      [{ url: "example.com/hook" }, /^invalid url: must be an absolute http/],
      [{ url: "http://user:pw@example.com/" }, /^invalid url: must not carry credentials/],
      [{ url: "http://example.com/", events: [] }, /^invalid events: /],
      [{ url: "http://example.com/", events: ["nope"] }, /^invalid events\.0: /],
      [{ url: "http://example.com/", sessionMetadata: { k: 1 } }, /^invalid sessionMetadata\.k: /],
      [{ url: "http://example.com/", extra: true }, /^invalid body: .*extra/i],
      ["[1,", /malformed JSON/],
    ];
    for (const [body, message] of cases) {
      const res = await a("POST", "/v1/webhooks", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.message, JSON.stringify(body)).toMatch(message);
    }
    const badSession = await a("POST", "/v1/sessions", { agent: "scripted", webhook: { url: "file:///etc/passwd" } });
    expect(badSession.status).toBe(400);
    expect(badSession.body.error.message).toMatch(/^invalid webhook\.url: must be http/);
    expect((await a("POST", "/v1/sessions", { agent: "scripted", webhook: { url: "http://x/", events: ["x"] } })).body.error.message).toMatch(/^invalid webhook\.events\.0/);
    expect((await a("GET", "/v1/webhooks/whk_nope")).status).toBe(404);
    expect((await a("GET", `/v1/webhooks/whk_00000000000000000000/deliveries?limit=0`)).status).toBe(404);
    expect((await a("GET", "/v1/webhooks")).body.webhooks.length).toBe(before);
    expect((await a("GET", "/v1/sessions?limit=200")).body.sessions.length).toBe(sessionsBefore);
  });
});
