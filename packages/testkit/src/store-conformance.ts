/**
 * @module store-conformance — the behaviour every `StoreV1` must show, as vitest `describe`/`it` blocks, so
 * SQLite and PostgreSQL pass the same suite.
 *
 * `make` returns a new, empty store (not yet migrated); the suite migrates it and closes it after each test.
 * `options.sameDatabase`, where a store can share its database, opens another store on the database the last
 * `make()` returned (as a second node would): the cases of two stores at once run only with it.
 *
 * @example
 * describeStoreConformance("sqlite (memory)", async () => createSqliteStore({ path: ":memory:" }));
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommitBatch, StoreV1 } from "@airlock/protocol";
import { describeLifecycleCases } from "./store-conformance-lifecycle.ts";
import { describeSecretCases } from "./store-conformance-secrets.ts";
import { describeSharedDatabaseCases } from "./store-conformance-shared.ts";
import { chunk, interactionRecord, sessionRecord, snapshot, turnRecord } from "./store-fixtures.ts";

export { sessionRecord } from "./store-fixtures.ts";

export interface StoreConformanceOptions {
  /** Another store (not migrated) on the database the last `make()` returned. */
  sameDatabase?: () => Promise<StoreV1>;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export function describeStoreConformance(name: string, make: () => Promise<StoreV1>, options: StoreConformanceOptions = {}): void {
  describe(`store conformance: ${name}`, () => {
    let store: StoreV1;
    beforeEach(async () => {
      store = await make();
      await store.migrate();
    });
    afterEach(async () => {
      await store.close();
    });

    it("declares its specification version and migrates idempotently", async () => {
      expect(store.specificationVersion).toBe("v1");
      expect(typeof store.kind).toBe("string");
      await store.migrate();
      const s = sessionRecord();
      await store.createSession(s, []);
      await store.migrate();
      expect(await store.getSession(s.id)).not.toBeNull();
    });

    describe("sessions", () => {
      it("creates a session with its first events and reads every field back", async () => {
        const s = sessionRecord({
          metadata: { team: "red", "odd.key": "v" },
          sandbox: { provider: "local", id: "sbx_1", data: { endpoint: "http://127.0.0.1:1", pid: 42, nested: { ok: true } } },
          options: { permissionMode: "auto", idleTimeoutSec: 30, network: true, model: "m", env: { A: "1" }, command: ["x", "--y"] },
          statusReason: "because",
          idleDeadline: 1234,
        });
        const rows = await store.createSession(s, [
          { type: "session.status", data: { status: "provisioning" } },
          { type: "session.status", data: { status: "provisioning", step: "sandbox" } },
        ]);
        expect(rows.map((r) => [r.seq, r.sessionId, r.type, r.turnId])).toEqual([
          [1, s.id, "session.status", null],
          [2, s.id, "session.status", null],
        ]);
        expect(JSON.parse(rows[1].data)).toEqual({ status: "provisioning", step: "sandbox" });
        expect(await store.getSession(s.id)).toEqual({ ...s, lastSeq: 2, journalOffset: 0 });
        expect(await store.readEvents(s.id, 0, 10)).toEqual(rows);
        expect(await store.getSession("ses_0000000000000000000000")).toBeNull();
      });

      it("refuses a second session with the same id and keeps the first intact", async () => {
        const s = sessionRecord();
        await store.createSession(s, [chunk("first")]);
        const before = await snapshot(store, s.id);
        await expect(store.createSession({ ...s, tenant: "other" }, [chunk("second"), chunk("third")])).rejects.toMatchObject({ code: "conflict" });
        expect(await snapshot(store, s.id)).toEqual(before);
      });

      it("lists a tenant's sessions newest first, filtered by status and metadata, in pages", async () => {
        const a = sessionRecord({ metadata: { team: "red", env: "prod" } });
        const b = sessionRecord({ metadata: { team: "blue", env: "prod" }, status: "ready" });
        const c = sessionRecord({ tenant: "t2", metadata: { team: "red" } });
        const d = sessionRecord({ metadata: { team: "red" }, status: "ready" });
        for (const s of [a, b, c, d]) await store.createSession(s, []);
        const ids = async (q: Partial<Parameters<StoreV1["listSessions"]>[0]>) =>
          (await store.listSessions({ tenant: "t1", limit: 10, ...q })).map((s) => s.id);
        expect(await ids({})).toEqual([d.id, b.id, a.id]);
        expect(await ids({ limit: 2 })).toEqual([d.id, b.id]);
        expect(await ids({ before: b.id })).toEqual([a.id]);
        expect(await ids({ before: a.id })).toEqual([]);
        expect(await ids({ status: "ready" })).toEqual([d.id, b.id]);
        expect(await ids({ status: "running" })).toEqual([]);
        expect(await ids({ metadata: { team: "red" } })).toEqual([d.id, a.id]);
        expect(await ids({ metadata: { team: "red", env: "prod" } })).toEqual([a.id]);
        expect(await ids({ metadata: { env: "prod" }, status: "ready" })).toEqual([b.id]);
        expect(await ids({ metadata: { team: "green" } })).toEqual([]);
        expect(await ids({ metadata: {} })).toEqual([d.id, b.id, a.id]);
        expect(await ids({ tenant: "t2" })).toEqual([c.id]);
        expect(await ids({ tenant: "nobody" })).toEqual([]);
      });

      it("pages through many sessions with the cursor, each once", async () => {
        const created: string[] = [];
        for (let i = 0; i < 25; i++) {
          const s = sessionRecord();
          created.push(s.id);
          await store.createSession(s, []);
        }
        const seen: string[] = [];
        let before: string | undefined;
        for (;;) {
          const page = await store.listSessions({ tenant: "t1", limit: 7, ...(before ? { before } : {}) });
          seen.push(...page.map((s) => s.id));
          if (page.length < 7) break;
          before = page[page.length - 1].id;
        }
        expect(seen).toEqual([...created].reverse());
      });

      it("lists and counts live sessions (not stopped, not failed)", async () => {
        const [a, b, c, d] = [sessionRecord(), sessionRecord({ status: "running" }), sessionRecord({ tenant: "t2" }), sessionRecord({ status: "awaiting_input" })];
        for (const s of [a, b, c, d]) await store.createSession(s, []);
        expect(await store.countLiveSessions("t1")).toBe(3);
        expect(await store.countLiveSessions("t2")).toBe(1);
        expect(await store.countLiveSessions("t3")).toBe(0);
        await store.commit(a.id, { events: [], session: { status: "stopped" } });
        await store.commit(b.id, { events: [], session: { status: "failed", statusReason: "crashed" } });
        expect((await store.listLiveSessions()).map((s) => s.id).sort()).toEqual([c.id, d.id].sort());
        expect(await store.countLiveSessions("t1")).toBe(1);
      });
    });

    describe("commit", () => {
      it("appends events with the next gapless seqs and returns them as stored", async () => {
        const s = sessionRecord();
        await store.createSession(s, [{ type: "session.status", data: { status: "provisioning" } }]);
        const t0 = Date.now();
        const rows = await store.commit(s.id, { events: [chunk("a", "turn_1"), chunk("b"), { type: "error", data: { message: "é \u2028 \"q\"" } }] });
        const t1 = Date.now();
        expect(rows.map((r) => r.seq)).toEqual([2, 3, 4]);
        expect(rows.map((r) => r.turnId)).toEqual(["turn_1", null, null]);
        expect(rows.every((r) => r.sessionId === s.id && r.at >= t0 && r.at <= t1)).toBe(true);
        expect(rows[0].data).toBe(JSON.stringify(chunk("a").data));
        expect(JSON.parse(rows[2].data)).toEqual({ message: "é \u2028 \"q\"" });
        expect(await store.readEvents(s.id, 1, 10)).toEqual(rows);
        expect((await store.commit(s.id, { events: [chunk("c")] }))[0].seq).toBe(5);
        const back = await store.getSession(s.id);
        expect(back!.lastSeq).toBe(5);
        expect(back!.updatedAt).toBeGreaterThanOrEqual(t0);
      });

      it("stores the journal offset only when it moves forward; otherwise changes nothing", async () => {
        const s = sessionRecord();
        await store.createSession(s, []);
        await store.commit(s.id, { events: [chunk("a")], journalOffset: 5 });
        expect((await store.getSession(s.id))!.journalOffset).toBe(5);
        await store.commit(s.id, { events: [chunk("b")] });
        expect((await store.getSession(s.id))!.journalOffset).toBe(5);
        const before = await snapshot(store, s.id);
        for (const journalOffset of [5, 4, 0]) {
          const refused: CommitBatch = {
            events: [chunk("dup")],
            journalOffset,
            session: { status: "running" },
            turns: { insert: [turnRecord(s.id)] },
            interactions: { insert: [interactionRecord(s.id)] },
            addUsage: { inputTokens: 1, outputTokens: 1, costUsd: 1 },
          };
          await expect(store.commit(s.id, refused)).rejects.toMatchObject({ code: "conflict" });
        }
        expect(await snapshot(store, s.id)).toEqual(before);
        await store.commit(s.id, { events: [chunk("c")], journalOffset: 6 });
        expect(await store.getSession(s.id)).toMatchObject({ journalOffset: 6, lastSeq: 3 });
      });

      it("is all or nothing: a batch that fails part-way leaves no trace", async () => {
        const s = sessionRecord();
        await store.createSession(s, [chunk("x")]);
        const turn = turnRecord(s.id);
        await store.commit(s.id, { events: [], turns: { insert: [turn] }, journalOffset: 1 });
        const before = await snapshot(store, s.id);
        // The second turn reuses an id: it fails once the events and the first turn are already written.
        const failing: CommitBatch = {
          events: [chunk("y"), chunk("z")],
          journalOffset: 2,
          session: { status: "running" },
          interactions: { insert: [interactionRecord(s.id)] },
          turns: { insert: [turnRecord(s.id), { ...turn, prompt: [{ type: "text", text: "again" }] }] },
          addUsage: { inputTokens: 1, outputTokens: 1, costUsd: 1 },
        };
        await expect(store.commit(s.id, failing)).rejects.toMatchObject({ code: "conflict" });
        expect(await snapshot(store, s.id)).toEqual(before);
        expect((await store.commit(s.id, { events: [chunk("y")], journalOffset: 2 }))[0].seq).toBe(2);
      });

      it("allows a state change without events", async () => {
        const s = sessionRecord();
        await store.createSession(s, [chunk("x")]);
        expect(await store.commit(s.id, { events: [], session: { status: "ready" }, journalOffset: 3 })).toEqual([]);
        expect(await store.getSession(s.id)).toMatchObject({ status: "ready", lastSeq: 1, journalOffset: 3 });
        expect(await store.readEvents(s.id, 0, 10)).toHaveLength(1);
      });

      it("applies a session patch field by field: absent keeps, null clears", async () => {
        const s = sessionRecord({ statusReason: "r", acpSessionId: "acp-1", idleDeadline: 99, sandbox: { provider: "local", id: "sbx", data: {} } });
        await store.createSession(s, []);
        await store.commit(s.id, { events: [], session: { status: "running" } });
        expect(await store.getSession(s.id)).toMatchObject({ status: "running", statusReason: "r", acpSessionId: "acp-1", idleDeadline: 99, sandbox: s.sandbox });
        const options = { ...s.options, budgetUsd: 2.5 };
        await store.commit(s.id, { events: [], session: { statusReason: null, sandbox: null, idleDeadline: null, options, usage: { inputTokens: 3, outputTokens: 4, costUsd: 0.5 } } });
        expect(await store.getSession(s.id)).toMatchObject({
          status: "running",
          statusReason: null,
          sandbox: null,
          idleDeadline: null,
          acpSessionId: "acp-1",
          options,
          usage: { inputTokens: 3, outputTokens: 4, costUsd: 0.5 },
        });
        await store.commit(s.id, { events: [], session: { status: "ready", statusReason: undefined } });
        expect(await store.getSession(s.id)).toMatchObject({ status: "ready", statusReason: null });
      });

      it("refuses an unknown session without storing anything", async () => {
        const missing = "ses_0000000000000000000000";
        await expect(store.commit(missing, { events: [chunk("x")], journalOffset: 1 })).rejects.toMatchObject({ code: "not_found" });
        await expect(store.commit(missing, { events: [] })).rejects.toMatchObject({ code: "not_found" });
        expect(await store.readEvents(missing, 0, 10)).toEqual([]);
        expect(await store.getSession(missing)).toBeNull();
      });

      it("keeps a session's workspace seed apart from its record until it is dropped", async () => {
        const s = sessionRecord();
        const seed = { files: { "a.txt": "x".repeat(100_000) } };
        await store.createSession(s, [], undefined, seed);
        expect(await store.sessionSeed(s.id)).toEqual(seed);
        expect(JSON.stringify(await store.getSession(s.id))).not.toContain("xxxx");
        await store.dropSessionSeed(s.id);
        expect(await store.sessionSeed(s.id)).toBeNull();
        const unseeded = sessionRecord();
        await store.createSession(unseeded, []);
        expect(await store.sessionSeed(unseeded.id)).toBeNull();
      });

      it("reads several sessions' events in one call, each after its own seq, at most `limit` each", async () => {
        const [a, b, c] = [sessionRecord(), sessionRecord(), sessionRecord()];
        for (const s of [a, b, c]) await store.createSession(s, []);
        await store.commit(a.id, { events: range(1, 5).map((i) => chunk(`a${i}`)) });
        await store.commit(b.id, { events: range(1, 2).map((i) => chunk(`b${i}`)) });
        const rows = await store.readEventsOf([{ sessionId: a.id, after: 1 }, { sessionId: b.id, after: 0 }, { sessionId: c.id, after: 0 }], 3);
        const seqsOf = (id: string) => rows.filter((r) => r.sessionId === id).map((r) => r.seq);
        expect(rows).toHaveLength(5);
        expect(seqsOf(a.id)).toEqual([2, 3, 4]);
        expect(seqsOf(b.id)).toEqual([1, 2]);
        expect(rows.find((r) => r.sessionId === a.id && r.seq === 2)).toEqual((await store.readEvents(a.id, 1, 1))[0]);
        expect(await store.readEventsOf([], 10)).toEqual([]);
      });

      it("keeps seqs gapless and each batch contiguous under overlapping commits", async () => {
        const s = sessionRecord();
        await store.createSession(s, []);
        const results = await Promise.all(range(0, 19).map((i) => store.commit(s.id, { events: [chunk(`${i}a`), chunk(`${i}b`), chunk(`${i}c`)] })));
        for (const [i, rows] of results.entries()) {
          expect(rows.map((r) => JSON.parse(r.data).content.text)).toEqual([`${i}a`, `${i}b`, `${i}c`]);
          expect(rows[1].seq).toBe(rows[0].seq + 1);
          expect(rows[2].seq).toBe(rows[0].seq + 2);
        }
        const stored = await store.readEvents(s.id, 0, 1000);
        expect(stored.map((r) => r.seq)).toEqual(range(1, 60));
        expect(results.flat().sort((x, y) => x.seq - y.seq)).toEqual(stored);
        expect((await store.getSession(s.id))!.lastSeq).toBe(60);
      });

      it("commits overlapping batches of several sessions independently; a refused one affects no other", async () => {
        const [a, b] = [sessionRecord(), sessionRecord()];
        await store.createSession(a, []);
        await store.createSession(b, [chunk("b0")]);
        const turn = turnRecord(b.id);
        await store.commit(b.id, { events: [], turns: { insert: [turn] } });
        const outcomes = await Promise.allSettled([
          store.commit(a.id, { events: [chunk("a1")], journalOffset: 1 }),
          store.commit(b.id, { events: [chunk("b1"), chunk("b2")] }),
          store.commit(a.id, { events: [chunk("refused")], journalOffset: 1 }),
          store.commit("ses_0000000000000000000000", { events: [chunk("nowhere")] }),
          // Fails in the database (the turn exists), after its events are written.
          store.commit(b.id, { events: [chunk("failed")], turns: { insert: [turn] } }),
          store.commit(a.id, { events: [chunk("a2")], journalOffset: 2 }),
          store.commit(b.id, { events: [chunk("b3")] }),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "rejected", "rejected", "fulfilled", "fulfilled"]);
        expect(outcomes[4]).toMatchObject({ reason: { code: "conflict" } });
        const texts = async (id: string) => (await store.readEvents(id, 0, 100)).map((r) => [r.seq, JSON.parse(r.data).content.text]);
        expect(await texts(a.id)).toEqual([[1, "a1"], [2, "a2"]]);
        expect(await texts(b.id)).toEqual([[1, "b0"], [2, "b1"], [3, "b2"], [4, "b3"]]);
        expect(await store.getSession(a.id)).toMatchObject({ lastSeq: 2, journalOffset: 2 });
      });

      it("adds usage to the totals atomically, alongside other changes", async () => {
        const s = sessionRecord({ usage: { inputTokens: 1, outputTokens: 2, costUsd: 0.5 } });
        await store.createSession(s, []);
        const u = { inputTokens: 10, outputTokens: 5, costUsd: 0.25 };
        await Promise.all(range(1, 8).map(() => store.commit(s.id, { events: [{ type: "usage", data: u }], addUsage: u })));
        expect((await store.getSession(s.id))!.usage).toEqual({ inputTokens: 81, outputTokens: 42, costUsd: 2.5 });
        expect(await store.readEvents(s.id, 0, 100)).toHaveLength(8);
      });
    });

    describe("events", () => {
      it("reads pages after any seq, oldest first, only the session's own", async () => {
        const [s, other] = [sessionRecord(), sessionRecord()];
        await store.createSession(s, []);
        await store.createSession(other, []);
        for (let i = 0; i < 5; i++) {
          await store.commit(s.id, { events: range(1, 50).map((j) => chunk(`${i * 50 + j}`)) });
          await store.commit(other.id, { events: [chunk("other")] });
        }
        const page = await store.readEvents(s.id, 100, 50);
        expect(page.map((r) => r.seq)).toEqual(range(101, 150));
        expect(page.map((r) => JSON.parse(r.data).content.text)).toEqual(range(101, 150).map(String));
        expect(page.every((r) => r.sessionId === s.id && r.type === "update" && r.turnId === null)).toBe(true);
        expect((await store.readEvents(s.id, 0, 3)).map((r) => r.seq)).toEqual([1, 2, 3]);
        expect((await store.readEvents(s.id, 248, 10)).map((r) => r.seq)).toEqual([249, 250]);
        expect(await store.readEvents(s.id, 250, 10)).toEqual([]);
        expect(await store.readEvents(other.id, 0, 100)).toHaveLength(5);
        let after = 0;
        let total = 0;
        for (let rows = await store.readEvents(s.id, after, 64); rows.length; rows = await store.readEvents(s.id, after, 64)) {
          expect(rows[0].seq).toBe(after + 1);
          total += rows.length;
          after = rows[rows.length - 1].seq;
        }
        expect(total).toBe(250);
      });
    });

    describe("turns", () => {
      it("inserts, updates and lists turns in creation order", async () => {
        const s = sessionRecord();
        await store.createSession(s, []);
        // Ids that sort against creation order, and two turns created in the same millisecond: the order is
        // createdAt, then insertion — the first queued turn is the next to run.
        const t1 = turnRecord(s.id, { id: "turn_c", createdAt: 1000, status: "running", startedAt: 1001 });
        const t2 = turnRecord(s.id, { id: "turn_b", createdAt: 2000 });
        const t3 = turnRecord(s.id, { id: "turn_a", createdAt: 2000, prompt: [{ type: "text", text: "third" }] });
        await store.commit(s.id, { events: [{ type: "turn.started", turnId: t1.id, data: { turnId: t1.id, prompt: t1.prompt } }], turns: { insert: [t1] } });
        await store.commit(s.id, { events: [], turns: { insert: [t2, t3] } });
        expect((await store.listTurns(s.id)).map((t) => t.id)).toEqual(["turn_c", "turn_b", "turn_a"]);
        expect((await store.listTurns(s.id, "queued")).map((t) => t.id)).toEqual(["turn_b", "turn_a"]);
        expect(await store.getTurn(s.id, t3.id)).toEqual(t3);

        await store.commit(s.id, {
          events: [],
          turns: {
            update: [
              { id: t1.id, patch: { status: "ended", stopReason: "end_turn", endedAt: 1500 } },
              { id: t2.id, patch: { status: "running", startedAt: 2100 } },
            ],
          },
        });
        expect(await store.getTurn(s.id, t1.id)).toEqual({ ...t1, status: "ended", stopReason: "end_turn", endedAt: 1500 });
        expect(await store.getTurn(s.id, t2.id)).toEqual({ ...t2, status: "running", startedAt: 2100 });
        expect((await store.listTurns(s.id, "running")).map((t) => t.id)).toEqual([t2.id]);
        expect((await store.listTurns(s.id, "ended")).map((t) => t.id)).toEqual([t1.id]);
        await store.commit(s.id, { events: [], turns: { update: [{ id: t2.id, patch: { status: "ended", stopReason: "error", error: "boom", endedAt: 2200 } }] } });
        expect(await store.getTurn(s.id, t2.id)).toMatchObject({ stopReason: "error", error: "boom", startedAt: 2100 });
      });

      it("scopes turns to their session", async () => {
        const [s, other] = [sessionRecord(), sessionRecord()];
        await store.createSession(s, []);
        await store.createSession(other, []);
        const t = turnRecord(s.id);
        await store.commit(s.id, { events: [], turns: { insert: [t] } });
        expect(await store.getTurn(other.id, t.id)).toBeNull();
        expect(await store.listTurns(other.id)).toEqual([]);
        // An update through another session must not touch it.
        await store.commit(other.id, { events: [], turns: { update: [{ id: t.id, patch: { status: "ended" } }] } });
        expect((await store.getTurn(s.id, t.id))!.status).toBe("queued");
        expect(await store.getTurn(s.id, "turn_missing")).toBeNull();
      });
    });

    describe("interactions", () => {
      it("inserts, filters by status and delivery, and updates interactions", async () => {
        const s = sessionRecord();
        await store.createSession(s, []);
        const turn = turnRecord(s.id, { status: "running" });
        const a = interactionRecord(s.id, { id: "int_b", turnId: turn.id, rpcId: 7, createdAt: 1000 });
        const b = interactionRecord(s.id, { id: "int_a", turnId: turn.id, kind: "question", rpcId: "req-8", request: { prompt: "name?", schema: { type: "object" } }, createdAt: 2000 });
        await store.commit(s.id, { events: [], turns: { insert: [turn] }, interactions: { insert: [a, b] } });
        expect(await store.listInteractions(s.id)).toEqual([a, b]);
        expect(await store.getInteraction(s.id, b.id)).toEqual(b);
        expect((await store.listInteractions(s.id, { status: "pending" })).map((i) => i.rpcId)).toEqual([7, "req-8"]);
        expect(await store.listInteractions(s.id, { status: "resolved" })).toEqual([]);

        const resolution = { optionId: "allow", outcome: "selected" };
        await store.commit(s.id, { events: [], interactions: { update: [{ id: a.id, patch: { status: "resolved", resolution, resolvedAt: 1100 } }] } });
        expect(await store.getInteraction(s.id, a.id)).toEqual({ ...a, status: "resolved", resolution, resolvedAt: 1100 });
        expect((await store.listInteractions(s.id, { status: "resolved", delivered: false })).map((i) => i.id)).toEqual([a.id]);
        expect((await store.listInteractions(s.id, { delivered: false })).map((i) => i.id)).toEqual([a.id, b.id]);

        await store.commit(s.id, { events: [], interactions: { update: [{ id: a.id, patch: { delivered: true } }] } });
        expect(await store.getInteraction(s.id, a.id)).toMatchObject({ delivered: true, resolution, status: "resolved" });
        expect((await store.listInteractions(s.id, { delivered: true })).map((i) => i.id)).toEqual([a.id]);
        expect((await store.listInteractions(s.id, { delivered: false })).map((i) => i.id)).toEqual([b.id]);
        expect(await store.listInteractions(s.id, { status: "resolved", delivered: false })).toEqual([]);
      });

      it("scopes interactions to their session", async () => {
        const [s, other] = [sessionRecord(), sessionRecord()];
        await store.createSession(s, []);
        await store.createSession(other, []);
        const i = interactionRecord(s.id);
        await store.commit(s.id, { events: [], interactions: { insert: [i] } });
        expect(await store.getInteraction(other.id, i.id)).toBeNull();
        expect(await store.listInteractions(other.id)).toEqual([]);
        await expect(store.commit(other.id, { events: [chunk("x")], requirePendingInteraction: i.id })).rejects.toMatchObject({ code: "not_found" });
        expect(await store.readEvents(other.id, 0, 10)).toEqual([]);
      });

      it("resolves an interaction only once: the loser gets conflict and changes nothing", async () => {
        const s = sessionRecord();
        await store.createSession(s, []);
        const i = interactionRecord(s.id);
        await store.commit(s.id, { events: [], interactions: { insert: [i] }, journalOffset: 1 });
        const resolve = (optionId: string): CommitBatch => ({
          events: [{ type: "interaction.resolved", data: { interactionId: i.id, outcome: "selected", optionId } }],
          interactions: { update: [{ id: i.id, patch: { status: "resolved", resolution: { optionId }, resolvedAt: Date.now() } }] },
          session: { status: optionId === "allow" ? "running" : "failed" },
          requirePendingInteraction: i.id,
        });
        const outcomes = await Promise.allSettled([store.commit(s.id, resolve("allow")), store.commit(s.id, resolve("reject"))]);
        expect(outcomes[0].status).toBe("fulfilled");
        expect(outcomes[1]).toMatchObject({ status: "rejected", reason: { code: "conflict" } });
        const after = await snapshot(store, s.id);
        expect(after.events.map((e) => JSON.parse(e.data).optionId)).toEqual(["allow"]);
        expect(after.interactions[0]).toMatchObject({ status: "resolved", resolution: { optionId: "allow" } });
        expect(after.session).toMatchObject({ status: "running", lastSeq: 1 });
        // Later, too: the check comes before anything else in the batch.
        await expect(store.commit(s.id, { ...resolve("reject"), journalOffset: 2 })).rejects.toMatchObject({ code: "conflict" });
        expect(await snapshot(store, s.id)).toEqual(after);
      });
    });

    describe("API keys", () => {
      it("returns a new key once, finds it by the clear key, never returns the key or its hash", async () => {
        const { record, key } = await store.createApiKey("acme", "ci");
        const other = await store.createApiKey("acme", "ci");
        expect(key).toMatch(/^ak_[A-Za-z0-9_-]{43}$/);
        expect(other.key).not.toBe(key);
        expect(other.record.id).not.toBe(record.id);
        expect(record).toEqual({ id: expect.any(String), tenant: "acme", name: "ci", createdAt: expect.any(Number) });
        expect(await store.findApiKey(key)).toEqual(record);
        expect(await store.findApiKey(`${key}x`)).toBeNull();
        expect(await store.findApiKey(key.slice(0, -1))).toBeNull();
        expect(await store.findApiKey("")).toBeNull();
        expect(JSON.stringify(await store.listApiKeys())).not.toContain(key.slice(3));
      });

      it("lists keys, all or by tenant, and revokes them", async () => {
        const a = await store.createApiKey("acme", "ci");
        const b = await store.createApiKey("acme", "laptop");
        const c = await store.createApiKey("globex", "ci");
        expect((await store.listApiKeys()).map((k) => k.id).sort()).toEqual([a, b, c].map((k) => k.record.id).sort());
        expect((await store.listApiKeys("acme")).map((k) => k.id).sort()).toEqual([a, b].map((k) => k.record.id).sort());
        expect(await store.listApiKeys("initech")).toEqual([]);
        expect(await store.revokeApiKey(a.record.id)).toBe(true);
        expect(await store.revokeApiKey(a.record.id)).toBe(false);
        expect(await store.revokeApiKey("key_missing")).toBe(false);
        expect(await store.findApiKey(a.key)).toBeNull();
        expect(await store.findApiKey(b.key)).toEqual(b.record);
        expect((await store.listApiKeys("acme")).map((k) => k.id)).toEqual([b.record.id]);
      });
    });

    describeLifecycleCases(() => store);
    describeSecretCases(() => store);
    if (options.sameDatabase) describeSharedDatabaseCases(() => store, options.sameDatabase);
  });
}
