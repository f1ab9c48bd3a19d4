import { describe, expect, it } from "vitest";
import type { EventRow } from "@airlock/protocol";
import { createLogger } from "../log.ts";
import { EventBus } from "../sessions/bus.ts";
import { CrossNodeFeed } from "./feed.ts";

/** A log held in memory, as another node's commits would leave it in the store. */
function fakeStore() {
  const logs = new Map<string, EventRow[]>();
  const append = (sessionId: string, n: number) => {
    const log = logs.get(sessionId) ?? [];
    for (let i = 0; i < n; i++) log.push({ seq: log.length + 1, sessionId, at: 0, type: "update", turnId: null, data: "{}" });
    logs.set(sessionId, log);
    return log.length;
  };
  return {
    append,
    reads: 0,
    readEvents: async (id: string, after: number, limit: number) => (logs.get(id) ?? []).filter((r) => r.seq > after).slice(0, limit),
    async readEventsOf(cursors: Array<{ sessionId: string; after: number }>, limit: number) {
      this.reads++;
      return cursors.flatMap((c) => (logs.get(c.sessionId) ?? []).filter((r) => r.seq > c.after).slice(0, limit));
    },
    sessionHeads: async (ids: string[]) => ids.filter((id) => logs.has(id)).map((id) => ({ id, lastSeq: logs.get(id)!.length })),
  };
}

function watch(bus: EventBus, sessionId: string, from: number) {
  const seen: number[] = [];
  bus.prime(sessionId, from);
  bus.subscribe(sessionId, (events) => seen.push(...events.map((e) => e.seq)));
  return seen;
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe("events of other nodes", () => {
  it("passes on what follows the last seq once a doorbell rings, each event once and in order", async () => {
    const store = fakeStore();
    const bus = new EventBus();
    const feed = new CrossNodeFeed(store, bus, createLogger("silent"), 60_000);
    store.append("s1", 3);
    const seen = watch(bus, "s1", 3);
    const last = store.append("s1", 1500);
    feed.ring(`s1:${last - 1000}`);
    feed.ring(`s1:${last}`); // while the first read runs
    feed.ring(`other:5,s1:2`); // a late, older ring and a session nobody here watches
    await settle();
    expect(seen).toEqual(Array.from({ length: 1500 }, (_, i) => i + 4));
  });

  it("reads the sessions rung while a read runs together, in one read", async () => {
    const store = fakeStore();
    const bus = new EventBus();
    const feed = new CrossNodeFeed(store, bus, createLogger("silent"), 60_000);
    const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const seen = ids.map((id) => watch(bus, id, 0));
    for (const id of ids) feed.ring(`${id}:${store.append(id, 3)}`);
    await settle();
    expect(seen).toEqual(ids.map(() => [1, 2, 3]));
    // The first ring starts a read; the nine that came while it ran share the next one.
    expect(store.reads).toBe(2);
  });

  it("finds events whose doorbell was lost on its next poll", async () => {
    const store = fakeStore();
    const bus = new EventBus();
    const feed = new CrossNodeFeed(store, bus, createLogger("silent"), 60_000);
    store.append("s1", 1);
    const seen = watch(bus, "s1", 1);
    store.append("s1", 2);
    await settle();
    expect(seen).toEqual([]);
    await feed.poll();
    await settle();
    expect(seen).toEqual([2, 3]);
  });

  it("does not pass on again what this node's own driver published", async () => {
    const store = fakeStore();
    const bus = new EventBus();
    const feed = new CrossNodeFeed(store, bus, createLogger("silent"), 60_000);
    const seen = watch(bus, "s1", 0);
    store.append("s1", 2);
    bus.publish("s1", await store.readEvents("s1", 0, 10));
    feed.ring("s1:2");
    await feed.poll();
    await settle();
    expect(seen).toEqual([1, 2]);
  });
});
