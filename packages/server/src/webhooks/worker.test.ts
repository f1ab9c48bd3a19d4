import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { NewEvent, StoreV1 } from "@airlock/protocol";
import { sessionRecord, webhookRecord } from "@airlock/testkit";
import { createLogger } from "../log.ts";
import { createSqliteStore } from "../store/sqlite.ts";
import { defaultDeliverySettings } from "./policy.ts";
import { WebhookWorker } from "./worker.ts";

const chunk = (i: number): NewEvent => ({ type: "update", data: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: String(i) } } });
const status = (s: "ready" | "running"): NewEvent => ({ type: "session.status", data: { status: s } });

let cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function setup(delayMs = 0) {
  const store: StoreV1 = createSqliteStore({ path: ":memory:" });
  await store.migrate();
  const bodies: Array<{ sessionId: string; events: Array<{ seq: number; type: string }> }> = [];
  const arrived = { count: 0 };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    arrived.count++;
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const worker = (batchSize: number) => {
    const w = new WebhookWorker({ store, log: createLogger("silent"), settings: { ...defaultDeliverySettings, batchSize, pollMs: 20 }, signingSecret: (webhook) => webhook.secret });
    cleanup.push(() => w.close());
    return w;
  };
  cleanup.push(() => store.close(), () => new Promise((r) => server.close(r)));
  return { store, bodies, arrived, url, worker };
}

const until = async (check: () => Promise<boolean> | boolean, what: string) => {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("the webhook worker", () => {
  it("sends a long log in batches of at most batchSize, in seq order, once each", async () => {
    const { store, bodies, url, worker } = await setup();
    const w = webhookRecord({ url });
    await store.webhooks.createWebhook(w);
    const s = sessionRecord({ tenant: w.tenant });
    await store.createSession(s, Array.from({ length: 250 }, (_, i) => chunk(i)));
    worker(100).start();
    await until(async () => (await store.webhooks.listCursors(w.id))[0]?.deliveredSeq === 250, "every event");
    expect(bodies.map((b) => b.events.length)).toEqual([100, 100, 50]);
    expect(bodies.flatMap((b) => b.events.map((e) => e.seq))).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(bodies.every((b) => b.sessionId === s.id)).toBe(true);
    expect((await store.webhooks.listDeliveries(w.id, { limit: 10 })).map((d) => [d.firstSeq, d.lastSeq, d.ok])).toEqual([
      [201, 250, true],
      [101, 200, true],
      [1, 100, true],
    ]);
  });

  it("with a type filter reads past other types page by page and sends only its types", async () => {
    const { store, bodies, url, worker } = await setup();
    const w = webhookRecord({ url, events: ["session.status"] });
    await store.webhooks.createWebhook(w);
    const s = sessionRecord({ tenant: w.tenant });
    const events = [status("running"), ...Array.from({ length: 2500 }, (_, i) => chunk(i)), status("ready"), chunk(-1)];
    await store.createSession(s, events);
    worker(100).start();
    await until(async () => (await store.webhooks.listCursors(w.id))[0]?.deliveredSeq === events.length, "the end of the log");
    expect(bodies.flatMap((b) => b.events.map((e) => [e.seq, e.type]))).toEqual([
      [1, "session.status"],
      [2502, "session.status"],
    ]);
  });

  it("lets a delivery in flight finish and be recorded when it closes", async () => {
    const { store, bodies, arrived, url, worker } = await setup(300);
    const w = webhookRecord({ url });
    await store.webhooks.createWebhook(w);
    const s = sessionRecord({ tenant: w.tenant });
    await store.createSession(s, [chunk(1), chunk(2)]);
    const running = worker(100);
    running.start();
    await until(() => arrived.count === 1, "a delivery under way");
    await running.close();
    expect(bodies).toHaveLength(1);
    expect((await store.webhooks.listCursors(w.id))[0]).toMatchObject({ deliveredSeq: 2, attempt: 0 });
  });
});
