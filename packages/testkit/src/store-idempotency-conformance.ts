/**
 * @module store-idempotency-conformance — what every `StoreV1` must do with idempotency keys (schema 2): keep a
 * turn's and a resolution's key, find them by key within a session, and refuse a second record under the same
 * key in the same session while changing nothing (the unique index a racing retry runs into).
 *
 * @example
 * describeIdempotencyConformance("sqlite (memory)", async () => createSqliteStore({ path: ":memory:" }));
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { StoreV1 } from "@airlock/protocol";
import { chunk, interactionRecord, sessionRecord, snapshot, turnRecord, useStore } from "./store-fixtures.ts";

export function describeIdempotencyConformance(name: string, make: () => Promise<StoreV1>): void {
  describe(`store idempotency conformance: ${name}`, () => {
    const current = useStore(make);
    let store: StoreV1;
    beforeEach(() => {
      store = current();
    });

    it("keeps a turn's key and finds the turn by it, only in its own session", async () => {
      const s = sessionRecord();
      const other = sessionRecord();
      await store.createSession(s, []);
      await store.createSession(other, []);
      const keyed = turnRecord(s.id, { idempotency: { key: "k-1", fingerprint: "fp-1" } });
      const plain = turnRecord(s.id);
      await store.commit(s.id, { events: [], turns: { insert: [keyed, plain] } });
      expect(await store.findTurnByIdempotencyKey(s.id, "k-1")).toEqual(keyed);
      expect(await store.getTurn(s.id, keyed.id)).toEqual(keyed);
      expect((await store.getTurn(s.id, plain.id))?.idempotency).toBeUndefined();
      expect(await store.findTurnByIdempotencyKey(s.id, "k-2")).toBeNull();
      expect(await store.findTurnByIdempotencyKey(other.id, "k-1")).toBeNull();
      // The same key in another session is another request.
      const elsewhere = turnRecord(other.id, { idempotency: { key: "k-1", fingerprint: "fp-other" } });
      await store.commit(other.id, { events: [], turns: { insert: [elsewhere] } });
      expect(await store.findTurnByIdempotencyKey(other.id, "k-1")).toEqual(elsewhere);
    });

    it("refuses a second turn under a session's key and changes nothing, events included", async () => {
      const s = sessionRecord();
      await store.createSession(s, [chunk("first")]);
      await store.commit(s.id, { events: [], turns: { insert: [turnRecord(s.id, { idempotency: { key: "k", fingerprint: "a" } })] } });
      const before = await snapshot(store, s.id);
      const retry = turnRecord(s.id, { idempotency: { key: "k", fingerprint: "a" } });
      await expect(store.commit(s.id, { events: [chunk("should not be stored")], session: { status: "running" }, turns: { insert: [retry] } })).rejects.toMatchObject({
        code: "conflict",
      });
      expect(await snapshot(store, s.id)).toEqual(before);
    });

    it("keeps the key of the answer that resolved an interaction, and refuses it on another interaction", async () => {
      const s = sessionRecord();
      await store.createSession(s, []);
      const a = interactionRecord(s.id);
      const b = interactionRecord(s.id);
      await store.commit(s.id, { events: [], interactions: { insert: [a, b] } });
      const resolution = { interactionId: a.id, optionId: "allow", outcome: "selected" };
      await store.commit(s.id, {
        events: [{ type: "interaction.resolved", data: { interactionId: a.id, optionId: "allow", outcome: "selected" } }],
        interactions: { update: [{ id: a.id, patch: { status: "resolved", resolution, resolvedAt: 5, idempotency: { key: "ans-1", fingerprint: "fp" } } }] },
        requirePendingInteraction: a.id,
      });
      const found = await store.findInteractionByIdempotencyKey(s.id, "ans-1");
      expect(found).toMatchObject({ id: a.id, status: "resolved", resolution, idempotency: { key: "ans-1", fingerprint: "fp" } });
      expect(await store.findInteractionByIdempotencyKey(s.id, "ans-2")).toBeNull();
      // A later patch without the key (the answer reached the agent) keeps it.
      await store.commit(s.id, { events: [], interactions: { update: [{ id: a.id, patch: { delivered: true } }] } });
      expect((await store.getInteraction(s.id, a.id))?.idempotency).toEqual({ key: "ans-1", fingerprint: "fp" });

      const before = await snapshot(store, s.id);
      await expect(
        store.commit(s.id, {
          events: [{ type: "interaction.resolved", data: { interactionId: b.id, optionId: "allow", outcome: "selected" } }],
          interactions: { update: [{ id: b.id, patch: { status: "resolved", resolution: { interactionId: b.id }, resolvedAt: 6, idempotency: { key: "ans-1", fingerprint: "fp" } } }] },
        }),
      ).rejects.toMatchObject({ code: "conflict" });
      expect(await snapshot(store, s.id)).toEqual(before);
      expect((await store.getInteraction(s.id, b.id))?.idempotency).toBeUndefined();
    });

    it("lists turns with their keys", async () => {
      const s = sessionRecord();
      await store.createSession(s, []);
      const t = turnRecord(s.id, { idempotency: { key: "durable", fingerprint: "fp" } });
      await store.commit(s.id, { events: [], turns: { insert: [t] } });
      expect((await store.listTurns(s.id)).map((x) => x.idempotency)).toEqual([{ key: "durable", fingerprint: "fp" }]);
    });
  });
}
