import { describe, expect, it } from "vitest";
import { type CommitBatch, type InteractionRecord, isFenced } from "@airlock/protocol";
import { type Head, planCommits } from "./commit-plan.ts";

const chunk = (text: string) => ({ type: "update" as const, data: { sessionUpdate: "agent_message_chunk" as const, content: { type: "text" as const, text } } });
const heads = (entries: Record<string, Head>) => new Map(Object.entries(entries));
const pending = (id: string, sessionId: string): InteractionRecord => ({
  id,
  sessionId,
  turnId: null,
  kind: "permission",
  rpcId: 1,
  request: {},
  status: "pending",
  resolution: null,
  delivered: false,
  createdAt: 1,
  resolvedAt: null,
});
const answer = (id: string): CommitBatch => ({
  events: [chunk(`answer ${id}`)],
  interactions: { update: [{ id, patch: { status: "resolved", resolution: { optionId: "allow" } } }] },
  requirePendingInteraction: id,
});

describe("planCommits", () => {
  it("gives each session's batches the seqs after its head, in order, and advances every head once", () => {
    const plan = planCommits(
      [
        { sessionId: "a", batch: { events: [chunk("a1"), chunk("a2")], journalOffset: 4 } },
        { sessionId: "b", batch: { events: [chunk("b1")] } },
        { sessionId: "a", batch: { events: [chunk("a3")], journalOffset: 5 } },
      ],
      heads({ a: { lastSeq: 10, journalOffset: 3 }, b: { lastSeq: 0, journalOffset: 7 } }),
      new Map(),
      1234,
      1000,
    );
    expect(plan.outcomes.map((o) => o.rows?.map((r) => [r.sessionId, r.seq, r.at]))).toEqual([
      [["a", 11, 1234], ["a", 12, 1234]],
      [["b", 1, 1234]],
      [["a", 13, 1234]],
    ]);
    expect(plan.writes.map((w) => w.query)).toEqual(["insertEvents", "advanceSessions"]);
    expect(plan.writes[0].values).toMatchObject({ sessionIds: ["a", "a", "b", "a"], seqs: [11, 12, 1, 13] });
    expect(plan.writes[1].values).toEqual({ ids: ["a", "b"], lastSeqs: [13, 1], offsets: [5, 7], ttls: [0, 0], at: 1234 });
  });

  it("extends the lease of an owner's commit (epoch and leaseTtlMs), not of a refused or unowned one", () => {
    const plan = planCommits(
      [
        { sessionId: "a", batch: { events: [chunk("a1")], epoch: 2, leaseTtlMs: 5000 } },
        { sessionId: "b", batch: { events: [chunk("b1")], leaseTtlMs: 5000 } },
        { sessionId: "c", batch: { events: [chunk("c1")], epoch: 1, leaseTtlMs: 5000 } },
      ],
      heads({ a: { lastSeq: 0, journalOffset: 0, epoch: 2 }, b: { lastSeq: 0, journalOffset: 0 }, c: { lastSeq: 0, journalOffset: 0, epoch: 2 } }),
      new Map(),
      1,
      1000,
    );
    expect(plan.outcomes.map((o) => (o.error ? (isFenced(o.error) ? "fenced" : o.error.code) : "ok"))).toEqual(["ok", "ok", "fenced"]);
    expect(plan.writes.at(-1)!.values).toMatchObject({ ids: ["a", "b"], ttls: [5000, 0] });
  });

  it("refuses a batch alone: unknown session, a journal offset not after the one stored or accepted just before", () => {
    const plan = planCommits(
      [
        { sessionId: "gone", batch: { events: [chunk("x")] } },
        { sessionId: "a", batch: { events: [chunk("a1")], journalOffset: 2 } },
        { sessionId: "a", batch: { events: [chunk("dup")], journalOffset: 2, session: { status: "running" } } },
        { sessionId: "a", batch: { events: [chunk("old")], journalOffset: 1 } },
        { sessionId: "a", batch: { events: [chunk("a2")], journalOffset: 3 } },
      ],
      heads({ a: { lastSeq: 0, journalOffset: 1 } }),
      new Map(),
      1,
      1000,
    );
    expect(plan.outcomes.map((o) => o.error?.code ?? o.rows!.map((r) => r.seq))).toEqual(["not_found", [1], "conflict", "conflict", [2]]);
    // The refused batch's session patch is not written.
    expect(plan.writes.map((w) => w.query)).toEqual(["insertEvents", "advanceSessions"]);
    expect(plan.writes[1].values).toMatchObject({ lastSeqs: [2], offsets: [3] });
  });

  it("lets one answer of an interaction through, and sees interactions inserted earlier in the group", () => {
    const plan = planCommits(
      [
        { sessionId: "a", batch: answer("int_1") },
        { sessionId: "a", batch: answer("int_1") },
        { sessionId: "b", batch: answer("int_1") },
        { sessionId: "a", batch: answer("int_missing") },
        { sessionId: "a", batch: answer("int_done") },
        { sessionId: "a", batch: { events: [], interactions: { insert: [pending("int_new", "a")] } } },
        { sessionId: "a", batch: answer("int_new") },
      ],
      heads({ a: { lastSeq: 0, journalOffset: 0 }, b: { lastSeq: 0, journalOffset: 0 } }),
      new Map([
        ["int_1", { sessionId: "a", status: "pending" }],
        ["int_done", { sessionId: "a", status: "resolved" }],
      ]),
      1,
      1000,
    );
    expect(plan.outcomes.map((o) => o.error?.code ?? "stored")).toEqual(["stored", "conflict", "not_found", "not_found", "conflict", "stored", "stored"]);
    expect(plan.writes.map((w) => w.query)).toEqual(["insertEvents", "patchInteraction", "insertInteraction", "patchInteraction", "advanceSessions"]);
  });

  it("splits the events into inserts of bounded size, and writes nothing when every batch is refused", () => {
    const many = Array.from({ length: 2500 }, (_, i) => chunk(String(i)));
    const plan = planCommits([{ sessionId: "a", batch: { events: many } }], heads({ a: { lastSeq: 0, journalOffset: 0 } }), new Map(), 1, 1000);
    const inserts = plan.writes.filter((w) => w.query === "insertEvents");
    expect(inserts.map((w) => (w.values.seqs as number[]).length)).toEqual([1000, 1000, 500]);
    expect((inserts[2].values.seqs as number[]).at(-1)).toBe(2500);
    expect(planCommits([{ sessionId: "x", batch: { events: many } }], new Map(), new Map(), 1, 1000).writes).toEqual([]);
  });

  it("writes patches as jsonb can hold them, and the resolution as written", () => {
    const plan = planCommits(
      [{ sessionId: "a", batch: { events: [], session: { statusReason: "bad \u0000 byte" }, interactions: { update: [{ id: "i", patch: { resolution: { answer: "\u0000" } } }] } } }],
      heads({ a: { lastSeq: 0, journalOffset: 0 } }),
      new Map(),
      1,
      1000,
    );
    const bySql = Object.fromEntries(plan.writes.map((w) => [w.query, w.values]));
    expect(JSON.parse(bySql.patchSession.patch as string)).toEqual({ statusReason: "bad \ufffd byte" });
    expect(bySql.patchInteraction.resolution).toBe(JSON.stringify({ answer: "\u0000" }));
  });
});
