/**
 * @module store-conformance — the behaviour every `StoreV1` must show, as a vitest suite:
 * `describeStoreConformance("sqlite", () => createSqliteStore(...))`.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SessionRecord, type StoreV1, newId } from "@airlock/protocol";

export function sessionRecord(over: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return {
    id: newId("session"),
    tenant: "t1",
    agent: "scripted",
    provider: "local",
    status: "provisioning",
    statusReason: null,
    options: { permissionMode: "ask", idleTimeoutSec: 60, network: false },
    metadata: {},
    lastSeq: 0,
    journalOffset: 0,
    sandbox: null,
    acpSessionId: null,
    usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
    idleDeadline: null,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

const chunk = (text: string) => ({ type: "update" as const, data: { sessionUpdate: "agent_message_chunk", content: { type: "text", text } } as any });

export function describeStoreConformance(name: string, make: () => Promise<StoreV1>): void {
  describe(`store conformance: ${name}`, () => {
    let store: StoreV1;
    beforeEach(async () => {
      store = await make();
      await store.migrate();
    });
    afterEach(async () => {
      await store.close();
    });

    it("creates a session with its first events and reads it back", async () => {
      const s = sessionRecord({ metadata: { team: "red" } });
      const rows = await store.createSession(s, [{ type: "session.status", data: { status: "provisioning" } }]);
      expect(rows.map((r) => r.seq)).toEqual([1]);
      const back = await store.getSession(s.id);
      expect(back).toMatchObject({ id: s.id, tenant: "t1", status: "provisioning", lastSeq: 1, journalOffset: 0, metadata: { team: "red" } });
      expect(await store.getSession("ses_nope")).toBeNull();
    });

    it("commits events with gapless seqs, the journal offset and state changes in one transaction", async () => {
      const s = sessionRecord();
      await store.createSession(s, []);
      const a = await store.commit(s.id, { events: [chunk("a"), chunk("b")], journalOffset: 5, session: { status: "ready", acpSessionId: "x" } });
      expect(a.map((r) => r.seq)).toEqual([1, 2]);
      expect(JSON.parse(a[0].data).content.text).toBe("a");
      const b = await store.commit(s.id, { events: [chunk("c")], journalOffset: 9 });
      expect(b[0].seq).toBe(3);
      const back = await store.getSession(s.id);
      expect(back).toMatchObject({ lastSeq: 3, journalOffset: 9, status: "ready", acpSessionId: "x" });
      // an offset that does not move forward is refused and changes nothing
      await expect(store.commit(s.id, { events: [chunk("dup")], journalOffset: 9 })).rejects.toMatchObject({ code: "conflict" });
      expect((await store.getSession(s.id))!.lastSeq).toBe(3);
      await expect(store.commit("ses_missing", { events: [] })).rejects.toMatchObject({ code: "not_found" });
    });

    it("keeps seqs gapless under concurrent commits", async () => {
      const s = sessionRecord();
      await store.createSession(s, []);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.commit(s.id, { events: [chunk(`${i}`), chunk(`${i}`)] })));
      const rows = await store.readEvents(s.id, 0, 1000);
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    });

    it("reads events in pages after any seq", async () => {
      const s = sessionRecord();
      await store.createSession(s, []);
      await store.commit(s.id, { events: Array.from({ length: 250 }, (_, i) => chunk(String(i))) });
      const page = await store.readEvents(s.id, 100, 50);
      expect(page.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 101 + i));
      expect(page[0]).toMatchObject({ sessionId: s.id, type: "update", turnId: null });
      expect(await store.readEvents(s.id, 250, 10)).toEqual([]);
    });

    it("tracks turns and interactions, and resolves an interaction only once", async () => {
      const s = sessionRecord();
      await store.createSession(s, []);
      const turn = { id: newId("turn"), sessionId: s.id, status: "queued" as const, prompt: [{ type: "text" as const, text: "hi" }], stopReason: null, error: null, createdAt: 1, startedAt: null, endedAt: null };
      await store.commit(s.id, { events: [], turns: { insert: [turn] } });
      expect((await store.listTurns(s.id, "queued")).map((t) => t.id)).toEqual([turn.id]);
      await store.commit(s.id, { events: [], turns: { update: [{ id: turn.id, patch: { status: "ended", stopReason: "end_turn", endedAt: 2 } }] } });
      expect(await store.getTurn(s.id, turn.id)).toMatchObject({ status: "ended", stopReason: "end_turn", endedAt: 2, prompt: turn.prompt });

      const interaction = { id: newId("interaction"), sessionId: s.id, turnId: turn.id, kind: "permission" as const, rpcId: 7, request: { options: [] }, status: "pending" as const, resolution: null, delivered: false, createdAt: 1, resolvedAt: null };
      await store.commit(s.id, { events: [], interactions: { insert: [interaction] } });
      expect((await store.listInteractions(s.id, { status: "pending" })).map((i) => i.rpcId)).toEqual([7]);
      const resolve = { events: [{ type: "interaction.resolved" as const, data: { interactionId: interaction.id, outcome: "selected" as const, optionId: "a" } }], interactions: { update: [{ id: interaction.id, patch: { status: "resolved" as const, resolution: { optionId: "a" }, resolvedAt: 3 } }] }, requirePendingInteraction: interaction.id };
      const [first, second] = await Promise.allSettled([store.commit(s.id, resolve), store.commit(s.id, resolve)]);
      expect(first.status).toBe("fulfilled");
      expect(second).toMatchObject({ status: "rejected", reason: { code: "conflict" } });
      expect((await store.readEvents(s.id, 0, 10)).filter((e) => e.type === "interaction.resolved")).toHaveLength(1);
      expect(await store.getInteraction(s.id, interaction.id)).toMatchObject({ status: "resolved", resolution: { optionId: "a" }, delivered: false });
      await store.commit(s.id, { events: [], interactions: { update: [{ id: interaction.id, patch: { delivered: true } }] } });
      expect(await store.listInteractions(s.id, { delivered: false })).toEqual([]);
    });

    it("adds usage atomically", async () => {
      const s = sessionRecord();
      await store.createSession(s, []);
      await Promise.all([1, 2, 3].map(() => store.commit(s.id, { events: [], addUsage: { inputTokens: 10, outputTokens: 5, costUsd: 0.25 } })));
      expect((await store.getSession(s.id))!.usage).toEqual({ inputTokens: 30, outputTokens: 15, costUsd: 0.75 });
    });

    it("lists sessions newest first, by tenant, status and metadata, with a cursor", async () => {
      const a = sessionRecord({ metadata: { team: "red" } });
      const b = sessionRecord({ metadata: { team: "blue" }, status: "ready" });
      const c = sessionRecord({ tenant: "t2" });
      for (const s of [a, b, c]) await store.createSession(s, []);
      expect((await store.listSessions({ tenant: "t1", limit: 10 })).map((s) => s.id)).toEqual([b.id, a.id]);
      expect((await store.listSessions({ tenant: "t1", limit: 10, before: b.id })).map((s) => s.id)).toEqual([a.id]);
      expect((await store.listSessions({ tenant: "t1", limit: 10, status: "ready" })).map((s) => s.id)).toEqual([b.id]);
      expect((await store.listSessions({ tenant: "t1", limit: 10, metadata: { team: "red" } })).map((s) => s.id)).toEqual([a.id]);
      expect(await store.countLiveSessions("t1")).toBe(2);
      await store.commit(a.id, { events: [], session: { status: "stopped" } });
      expect((await store.listLiveSessions()).map((s) => s.id).sort()).toEqual([b.id, c.id].sort());
    });

    it("stores API keys hashed, finds them by the clear key, revokes them", async () => {
      const { record, key } = await store.createApiKey("acme", "ci");
      expect(key).toMatch(/^ak_/);
      expect(await store.findApiKey(key)).toMatchObject({ id: record.id, tenant: "acme" });
      expect(await store.findApiKey(key + "x")).toBeNull();
      expect((await store.listApiKeys()).map((k) => k.id)).toEqual([record.id]);
      expect(await store.revokeApiKey(record.id)).toBe(true);
      expect(await store.findApiKey(key)).toBeNull();
    });
  });
}
