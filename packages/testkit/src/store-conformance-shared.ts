/**
 * @module store-conformance-shared — two stores on one database at once, as two nodes (or two processes) are:
 * the guarantees of a session's log must hold across them, not only inside one store's queue.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommitBatch, StoreV1 } from "@airlock/protocol";
import { chunk, interactionRecord, sessionRecord, snapshot, turnRecord } from "./store-fixtures.ts";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const text = (data: string) => JSON.parse(data).content.text as string;

export function describeSharedDatabaseCases(current: () => StoreV1, another: () => Promise<StoreV1>): void {
  describe("two stores on one database", () => {
    let other: StoreV1;
    beforeEach(async () => {
      other = await another();
      await other.migrate();
    });
    afterEach(async () => {
      await other.close();
    });

    it("sees what the other store wrote, and keeps seqs gapless and unique when both commit to one session at once", async () => {
      const store = current();
      const s = sessionRecord();
      await store.createSession(s, []);
      expect(await other.getSession(s.id)).toMatchObject({ id: s.id, lastSeq: 0 });
      const writers = [store, other];
      // 40 batches of 3, every other one through the other store, all in flight together.
      const results = await Promise.all(
        range(0, 39).map((i) => writers[i % 2].commit(s.id, { events: [chunk(`${i}a`), chunk(`${i}b`), chunk(`${i}c`)] })),
      );
      for (const [i, rows] of results.entries()) {
        expect(rows.map((r) => text(r.data))).toEqual([`${i}a`, `${i}b`, `${i}c`]);
        expect(rows.map((r) => r.seq)).toEqual([rows[0].seq, rows[0].seq + 1, rows[0].seq + 2]);
      }
      const seqs = results.flat().map((r) => r.seq);
      expect(new Set(seqs).size).toBe(120);
      for (const reader of writers) {
        const stored = await reader.readEvents(s.id, 0, 1000);
        expect(stored.map((r) => r.seq)).toEqual(range(1, 120));
        expect([...results.flat()].sort((x, y) => x.seq - y.seq)).toEqual(stored);
        expect((await reader.getSession(s.id))!.lastSeq).toBe(120);
      }
    });

    it("lets one answer of an interaction through, whichever store the two answers reach", async () => {
      const store = current();
      const s = sessionRecord();
      await store.createSession(s, []);
      const i = interactionRecord(s.id);
      await store.commit(s.id, { events: [], interactions: { insert: [i] } });
      const answer = (optionId: string): CommitBatch => ({
        events: [{ type: "interaction.resolved", data: { interactionId: i.id, outcome: "selected", optionId } }],
        interactions: { update: [{ id: i.id, patch: { status: "resolved", resolution: { optionId }, resolvedAt: Date.now() } }] },
        requirePendingInteraction: i.id,
      });
      const outcomes = await Promise.allSettled([store.commit(s.id, answer("allow")), other.commit(s.id, answer("reject"))]);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      expect(outcomes.find((o) => o.status === "rejected")).toMatchObject({ reason: { code: "conflict" } });
      const after = await snapshot(other, s.id);
      expect(after.events).toHaveLength(1);
      const chosen = JSON.parse(after.events[0].data).optionId;
      expect(after.interactions[0]).toMatchObject({ status: "resolved", resolution: { optionId: chosen } });
    });

    it("refuses a journal offset the other store already stored, and adds usage from both", async () => {
      const store = current();
      const s = sessionRecord();
      await store.createSession(s, []);
      await store.commit(s.id, { events: [chunk("a")], journalOffset: 3 });
      const before = await snapshot(store, s.id);
      await expect(other.commit(s.id, { events: [chunk("again")], journalOffset: 3, turns: { insert: [turnRecord(s.id)] } })).rejects.toMatchObject({
        code: "conflict",
      });
      expect(await snapshot(store, s.id)).toEqual(before);
      const u = { inputTokens: 2, outputTokens: 1, costUsd: 0.125 };
      await Promise.all(range(1, 10).map((n) => [store, other][n % 2].commit(s.id, { events: [], addUsage: u })));
      expect((await other.getSession(s.id))!.usage).toEqual({ inputTokens: 20, outputTokens: 10, costUsd: 1.25 });
    });
  });
}
