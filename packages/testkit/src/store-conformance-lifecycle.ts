/**
 * @module store-conformance-lifecycle — purging sessions and finding those ended long ago (retention).
 */
import { describe, expect, it } from "vitest";
import type { SessionStatus, StoreV1 } from "@airlock/protocol";
import { chunk, interactionRecord, sessionRecord, snapshot, turnRecord } from "./store-fixtures.ts";

const sandbox = { provider: "local", id: "sbx_kept", data: {} };
/** Ended times are taken by the database's clock: a few ms apart so their order is certain. */
const tick = () => new Promise((r) => setTimeout(r, 5));

export function describeLifecycleCases(current: () => StoreV1): void {
  describe("data lifecycle", () => {
    const setStatus = (id: string, status: SessionStatus, extra: Record<string, unknown> = {}) =>
      current().commit(id, { events: [{ type: "session.status", data: { status } }], session: { status, ...extra } });

    it("purges a final session: gone for every read at once, its rows removed in bounded steps, nothing else touched", async () => {
      const store = current();
      const [doomed, kept] = [sessionRecord({ metadata: { team: "red" } }), sessionRecord({ metadata: { team: "red" } })];
      await store.createSession(doomed, [chunk("first")]);
      await store.createSession(kept, [chunk("kept")]);
      for (let i = 0; i < 6; i++) await store.commit(doomed.id, { events: Array.from({ length: 200 }, (_, j) => chunk(`${i}.${j}`)) });
      const turn = turnRecord(doomed.id, { status: "ended" });
      await store.commit(doomed.id, { events: [], turns: { insert: [turn, turnRecord(doomed.id)] }, interactions: { insert: [interactionRecord(doomed.id)] } });
      await setStatus(doomed.id, "stopped");
      await setStatus(kept.id, "stopped");
      const keptBefore = await snapshot(store, kept.id);

      await store.requestPurge(doomed.id);
      await store.requestPurge(doomed.id); // idempotent
      expect(await store.getSession(doomed.id)).toBeNull();
      expect((await store.listSessions({ tenant: "t1", limit: 10, metadata: { team: "red" } })).map((s) => s.id)).toEqual([kept.id]);
      expect((await store.listEndedSessions({ endedBefore: Date.now() + 1000, limit: 10 })).map((s) => s.id)).toEqual([kept.id]);
      await expect(store.commit(doomed.id, { events: [chunk("late")] })).rejects.toMatchObject({ code: "not_found" });

      // 1202 events, 2 turns, 1 interaction: three steps of at most 500 rows, the last one takes the session too.
      const steps = [];
      for (let step = await store.purgeStep(500); step.more; step = await store.purgeStep(500)) steps.push(step);
      expect(steps.map((s) => s.removedRows)).toEqual([500, 500, 205]);
      expect(steps.map((s) => s.removedSessions)).toEqual([0, 0, 1]);
      expect(await store.purgeStep(500)).toEqual({ removedRows: 0, removedSessions: 0, more: false });
      expect(await store.readEvents(doomed.id, 0, 10)).toEqual([]);
      expect(await store.listTurns(doomed.id)).toEqual([]);
      expect(await store.listInteractions(doomed.id)).toEqual([]);
      await expect(store.requestPurge(doomed.id)).rejects.toMatchObject({ code: "not_found" });
      expect(await snapshot(store, kept.id)).toEqual(keptBefore);
      // The id is free again, and a new session under it starts empty.
      await store.createSession({ ...doomed, metadata: {} }, []);
      expect(await store.getSession(doomed.id)).toMatchObject({ lastSeq: 0, status: "provisioning" });
    });

    it("refuses to purge a session that runs or keeps its sandbox, changing nothing; purges a failed one", async () => {
      const store = current();
      const [running, idle, failed] = [sessionRecord({ status: "running" }), sessionRecord(), sessionRecord()];
      for (const s of [running, idle, failed]) await store.createSession(s, [chunk("x")]);
      await setStatus(idle.id, "stopped", { sandbox });
      await setStatus(failed.id, "failed", { statusReason: "crashed" });
      const before = await Promise.all([running, idle].map((s) => snapshot(store, s.id)));
      await expect(store.requestPurge(running.id)).rejects.toMatchObject({ code: "conflict", message: expect.stringMatching(/stop it/) });
      await expect(store.requestPurge(idle.id)).rejects.toMatchObject({ code: "conflict", message: expect.stringMatching(/sandbox/) });
      await expect(store.requestPurge("ses_0000000000000000000000")).rejects.toMatchObject({ code: "not_found" });
      expect(await Promise.all([running, idle].map((s) => snapshot(store, s.id)))).toEqual(before);
      await store.requestPurge(failed.id);
      while ((await store.purgeStep(1)).more);
      expect(await store.getSession(failed.id)).toBeNull();
      expect((await store.listSessions({ tenant: "t1", limit: 10 })).map((s) => s.id).sort()).toEqual([running.id, idle.id].sort());
    });

    it("finds sessions that stopped running before a time, longest ago first: final ones, or those keeping a sandbox", async () => {
      const store = current();
      const [a, b, c, d, e] = [sessionRecord(), sessionRecord(), sessionRecord(), sessionRecord(), sessionRecord()];
      for (const s of [a, b, c, d, e]) await store.createSession(s, []);
      const start = Date.now() - 1;
      await setStatus(a.id, "stopped");
      await tick();
      await setStatus(b.id, "failed", { sandbox });
      await tick();
      await setStatus(c.id, "paused", { sandbox });
      await tick();
      await setStatus(d.id, "running");
      await setStatus(e.id, "stopped", { sandbox });
      await tick();
      const ended = async (sandboxKept: boolean, endedBefore = Date.now() + 1, limit = 10) =>
        (await store.listEndedSessions({ endedBefore, sandboxKept, limit })).map((s) => s.id);
      expect(await ended(false)).toEqual([a.id, b.id, e.id]);
      expect(await ended(true)).toEqual([b.id, c.id, e.id]);
      expect(await ended(false, start)).toEqual([]);
      expect(await ended(false, Date.now() + 1, 2)).toEqual([a.id, b.id]);
      expect((await store.listEndedSessions({ endedBefore: Date.now() + 1, limit: 1 }))[0]).toMatchObject({ id: a.id, status: "stopped" });

      // Stopped → failed keeps the first end; running again clears it, and stopping again starts anew.
      await setStatus(a.id, "failed");
      expect(await ended(false)).toEqual([a.id, b.id, e.id]);
      await setStatus(a.id, "provisioning");
      expect(await ended(false)).toEqual([b.id, e.id]);
      await tick();
      await setStatus(a.id, "stopped");
      expect(await ended(false)).toEqual([b.id, e.id, a.id]);
      // Paused → ready: running again.
      await setStatus(c.id, "ready");
      expect(await ended(true)).toEqual([b.id, e.id]);
      // A session stored already stopped has ended too.
      const old = sessionRecord({ status: "stopped" });
      await store.createSession(old, []);
      expect(await ended(false)).toContain(old.id);
    });
  });
}
