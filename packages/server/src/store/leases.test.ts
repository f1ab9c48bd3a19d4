/**
 * Leases, fencing, commands and the doorbell, on both stores: PostgreSQL with several nodes' semantics, SQLite
 * with one node's (a lease another node id left is taken at once).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { type StoreV1, isFenced } from "@airlock/protocol";
import { type TestDatabase, createTestDatabase, sessionRecord } from "@airlock/testkit";
import { createPostgresStore } from "./postgres/store.ts";
import { createSqliteStore } from "./sqlite.ts";

const chunk = (text: string) => ({ type: "update" as const, data: { sessionUpdate: "agent_message_chunk" as const, content: { type: "text" as const, text } } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function newSession(store: StoreV1, node: string | null, ttlMs = 10_000) {
  const s = sessionRecord({ status: "ready", ...(node ? { lease: { node, epoch: 1, expiresAt: Date.now() + ttlMs } } : {}) });
  await store.createSession(s, [chunk("first")]);
  return s.id;
}

let db: TestDatabase;
let store: StoreV1;
beforeAll(async () => {
  db = await createTestDatabase("leases");
  store = createPostgresStore({ url: db.url });
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

describe("leases on PostgreSQL", () => {
  it("gives a session to one node at a time, and a new owner the next epoch", async () => {
    const id = await newSession(store, "a");
    expect(await store.claimSession(id, "b", 1000)).toBeNull();
    expect((await store.getSession(id))?.lease).toMatchObject({ node: "a", epoch: 1 });
    // The owner's own claim only extends its lease.
    expect(await store.claimSession(id, "a", 1000)).toMatchObject({ node: "a", epoch: 1 });
    expect(await store.renewLeases("a", [{ sessionId: id, epoch: 1 }], 50)).toEqual([id]);
    await sleep(80);
    expect(await store.claimSession(id, "b", 1000)).toMatchObject({ node: "b", epoch: 2 });
    expect(await store.renewLeases("a", [{ sessionId: id, epoch: 1 }], 1000)).toEqual([]);
  });

  it("renews without waiting behind a transaction that holds the session, which still counts as held", async () => {
    const busy = await newSession(store, "a", 5000);
    const idle = await newSession(store, "a", 5000);
    const lapsed = await newSession(store, "a", 1);
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query("SELECT 1 FROM sessions WHERE id = ANY ($1) FOR UPDATE", [[busy, lapsed]]);
      await sleep(10);
      const leases = [busy, idle, lapsed].map((sessionId) => ({ sessionId, epoch: 1 }));
      const held = await Promise.race([store.renewLeases("a", leases, 60_000), sleep(3000).then(() => "waited")]);
      // The locked lease that has not expired is held; the locked one that lapsed is not (its claimer may be next).
      expect(held).not.toBe("waited");
      expect([...(held as string[])].sort()).toEqual([idle, busy].sort());
      const before = (await store.getSession(busy))!.lease!.expiresAt;
      await other.query("ROLLBACK");
      expect((await store.getSession(idle))!.lease!.expiresAt).toBeGreaterThan(Date.now() + 50_000);
      expect(before).toBeLessThan(Date.now() + 10_000);
    } finally {
      await other.end();
    }
  });

  it("extends the lease with every commit of its owner, not with a commit that carries no epoch", async () => {
    const owned = await newSession(store, "a", 40);
    const unowned = await newSession(store, "a", 40);
    await store.commit(owned, { events: [chunk("by a")], epoch: 1, leaseTtlMs: 5000 });
    await store.commit(unowned, { events: [chunk("queued elsewhere")], leaseTtlMs: 5000 });
    await sleep(80);
    expect(await store.claimSession(owned, "b", 1000)).toBeNull();
    expect(await store.claimSession(unowned, "b", 1000)).toMatchObject({ node: "b", epoch: 2 });
  });

  it("refuses a commit with a stale epoch and stores nothing of it (fencing)", async () => {
    const id = await newSession(store, "a", 30);
    expect(await store.commit(id, { events: [chunk("by a")], epoch: 1 })).toHaveLength(1);
    await sleep(60);
    const [taken] = (await store.claimExpired("b", 1000, 1000)).filter((c) => c.sessionId === id);
    expect(taken.lease).toMatchObject({ node: "b", epoch: 2 });
    const refused = await store.commit(id, { events: [chunk("late a")], journalOffset: 99, epoch: 1 }).catch((e) => e);
    expect(isFenced(refused)).toBe(true);
    const s = await store.getSession(id);
    expect(s).toMatchObject({ lastSeq: 2, journalOffset: 0 });
    expect(await store.commit(id, { events: [chunk("by b")], epoch: 2 })).toMatchObject([{ seq: 3 }]);
  });

  it("shares expired sessions between nodes claiming at once, and releases them", async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => newSession(store, "gone", 1)));
    await sleep(20);
    const [x, y] = await Promise.all([store.claimExpired("x", 1000, 1000), store.claimExpired("y", 1000, 1000)]);
    const mine = (claims: typeof x) => claims.map((c) => c.sessionId).filter((id) => ids.includes(id));
    expect([...mine(x), ...mine(y)].sort()).toEqual([...ids].sort());
    await store.releaseLeases("x", mine(x));
    const again = await store.claimExpired("z", 1000, 1000);
    expect(mine(again).sort()).toEqual(mine(x).sort());
  });

  it("lets a node starting again under its id take its own sessions back at once", async () => {
    const id = await newSession(store, "fixed", 60_000);
    expect((await store.claimExpired("fixed", 1000, 1000)).filter((c) => c.sessionId === id)).toEqual([]);
    await store.releaseNodeLeases("fixed");
    const again = (await store.claimExpired("fixed", 1000, 1000)).filter((c) => c.sessionId === id);
    expect(again).toEqual([{ sessionId: id, lease: expect.objectContaining({ node: "fixed", epoch: 2 }) }]);
  });

  it("keeps commands for the owner until it takes them", async () => {
    const id = await newSession(store, "owner");
    await store.addCommand(id, "wake");
    await store.addCommand(id, "cancel");
    expect(await store.commandSessions("owner")).toContain(id);
    expect(await store.commandSessions("other")).not.toContain(id);
    expect((await store.takeCommands(id)).map((c) => c.kind)).toEqual(["wake", "cancel"]);
    expect(await store.takeCommands(id)).toEqual([]);
  });

  it("rings the doorbell after commits, never once per event, with each session's last seq", async () => {
    const heard: string[] = [];
    const listening = await store.listen!((channel, payload) => channel === "events" && heard.push(payload), () => {});
    try {
      const [one, two] = [await newSession(store, null), await newSession(store, null)];
      const before = store.stats!().notifies;
      await store.commit(one, { events: Array.from({ length: 100 }, (_, i) => chunk(`e${i}`)) });
      await Promise.all([store.commit(one, { events: [chunk("x")] }), store.commit(two, { events: [chunk("y")] })]);
      await store.commit(two, { events: [] }); // no events: no ring
      await sleep(200);
      const sent = store.stats!().notifies - before;
      expect(sent).toBeLessThanOrEqual(3);
      expect(heard.length).toBe(sent);
      // Commits stored close together ring together: the last seq of a session is what a reader needs.
      const entries = heard.flatMap((p) => p.split(","));
      const last = (id: string) => Math.max(...entries.filter((e) => e.startsWith(`${id}:`)).map((e) => Number(e.slice(id.length + 1))));
      expect(last(one)).toBe(102);
      expect(last(two)).toBe(2);
      expect(entries.every((e) => e.startsWith(`${one}:`) || e.startsWith(`${two}:`))).toBe(true);
    } finally {
      await listening.close();
    }
  });

  it("lists the nodes that reported within a time", async () => {
    await store.heartbeat({ id: "n1", url: "http://h:1", startedAt: 1 });
    expect((await store.listNodes(Date.now() - 5000)).map((n) => n.id)).toContain("n1");
    await store.removeNode("n1");
    expect((await store.listNodes(0)).map((n) => n.id)).not.toContain("n1");
  });
});

describe("leases on SQLite (one node)", () => {
  it("takes a lease a previous run left at once, and fences its commits", async () => {
    const sqlite = createSqliteStore({ path: ":memory:" });
    await sqlite.migrate();
    try {
      const id = await newSession(sqlite, "previous-run");
      const claimed = await sqlite.claimExpired("this-run", 1000, 10);
      expect(claimed).toEqual([{ sessionId: id, lease: expect.objectContaining({ node: "this-run", epoch: 2 }) }]);
      expect(isFenced(await sqlite.commit(id, { events: [chunk("old")], epoch: 1 }).catch((e) => e))).toBe(true);
      expect(await sqlite.commit(id, { events: [chunk("new")], epoch: 2 })).toMatchObject([{ seq: 2 }]);
      expect(await sqlite.renewLeases("this-run", [{ sessionId: id, epoch: 2 }], 1000)).toEqual([id]);
      await sqlite.commit(id, { events: [chunk("owner's")], epoch: 2, leaseTtlMs: 60_000 });
      expect((await sqlite.getSession(id))!.lease!.expiresAt).toBeGreaterThan(Date.now() + 50_000);
      await sqlite.addCommand(id, "keepalive");
      expect((await sqlite.takeCommands(id)).map((c) => c.kind)).toEqual(["keepalive"]);
    } finally {
      await sqlite.close();
    }
  });
});
