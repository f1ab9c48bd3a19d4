import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SessionRecord, SessionStatus, StoreV1 } from "@airlock/protocol";
import { sessionRecord } from "@airlock/testkit";
import { createSqliteStore } from "../store/sqlite.ts";
import { type RetentionPolicy, RetentionSweeper, cutoffs, rowsPerStep } from "./sweeper.ts";

const log = pino({ level: "silent" });
const sandbox = { provider: "local", id: "sbx", data: {} };
const chunk = (text: string) => ({ type: "update" as const, data: { sessionUpdate: "agent_message_chunk" as const, content: { type: "text" as const, text } } });
/** The end times are the database's clock: let it move past them. */
const later = () => new Promise((r) => setTimeout(r, 10));
/** A retention so short that whatever ended before now is past it. */
const now = 1e-9;

describe("cutoffs", () => {
  it("turns days and hours into end times before which things go, and off into null", () => {
    expect(cutoffs({ retentionDays: 30, sandboxRetentionHours: 0.5 }, 100_000_000_000)).toEqual({
      sessionsBefore: 100_000_000_000 - 30 * 86_400_000,
      sandboxesBefore: 100_000_000_000 - 1_800_000,
    });
    expect(cutoffs({ retentionDays: null, sandboxRetentionHours: null }, 1)).toEqual({ sessionsBefore: null, sandboxesBefore: null });
  });
});

describe("the retention sweeper", () => {
  let store: StoreV1;
  let removed: string[];
  let failing: Set<string>;
  beforeEach(async () => {
    store = createSqliteStore({ path: ":memory:" });
    await store.migrate();
    removed = [];
    failing = new Set();
  });
  afterEach(() => store.close());

  const sweeper = (policy: RetentionPolicy) =>
    new RetentionSweeper({
      store,
      policy,
      intervalMs: 60_000,
      log,
      // What the driver's stop does to the record, recorded.
      async removeSandbox(session: SessionRecord, reason: string) {
        if (failing.has(session.id)) throw new Error("the provider is down");
        removed.push(session.id);
        expect(reason).toMatch(/AIRLOCK_(SANDBOX_)?RETENTION/);
        await store.commit(session.id, { events: [], session: { sandbox: null, ...(session.status === "paused" ? { status: "stopped" as const } : {}) } });
      },
    });
  const session = async (status: SessionStatus, withSandbox: boolean, events = 1) => {
    const s = sessionRecord();
    await store.createSession(s, Array.from({ length: events }, (_, i) => chunk(String(i))));
    await store.commit(s.id, { events: [], session: { status, ...(withSandbox ? { sandbox } : {}) } });
    return s.id;
  };

  it("keeps everything when both settings are off, but removes the rows of purged sessions in steps", async () => {
    const [kept, purged] = [await session("stopped", true), await session("stopped", false, 1234)];
    await store.requestPurge(purged);
    await later();
    const counts = await sweeper({ retentionDays: null, sandboxRetentionHours: null }).sweep();
    expect(counts).toEqual({ sandboxesRemoved: 0, sessionsPurged: 0, rowsRemoved: 1234 });
    expect(removed).toEqual([]);
    expect(await store.getSession(kept)).toMatchObject({ sandbox });
    expect(await store.readEvents(purged, 0, 10)).toEqual([]);
    expect(rowsPerStep).toBeLessThan(1234);
  });

  it("removes the sandboxes kept longer than the sandbox retention, a few sessions at a time, and keeps their logs", async () => {
    const idle = await Promise.all(Array.from({ length: 12 }, () => session("stopped", true)));
    const failed = await session("failed", true);
    const paused = await session("paused", true);
    const gone = await session("stopped", false);
    const live = await session("ready", true);
    await later();
    const counts = await sweeper({ retentionDays: null, sandboxRetentionHours: now }).sweep();
    expect(counts).toMatchObject({ sandboxesRemoved: 14, sessionsPurged: 0 });
    expect(removed.sort()).toEqual([...idle, failed, paused].sort());
    for (const id of [...idle, failed, paused, gone]) expect(await store.getSession(id)).toMatchObject({ sandbox: null, lastSeq: 1 });
    expect(await store.getSession(live)).toMatchObject({ sandbox, status: "ready" });
    // Long retentions leave them alone.
    const recent = await session("stopped", true);
    expect(await sweeper({ retentionDays: 30, sandboxRetentionHours: 1 }).sweep()).toEqual({ sandboxesRemoved: 0, sessionsPurged: 0, rowsRemoved: 0 });
    expect(await store.getSession(recent)).toMatchObject({ sandbox });
  });

  it("purges sessions ended longer ago than the retention, their sandbox first; a session it cannot clean up is skipped", async () => {
    const stopped = await session("stopped", false, 700);
    const failedWithSandbox = await session("failed", true, 3);
    const stuck = await session("failed", true);
    const live = await session("running", true);
    const paused = await session("paused", true);
    failing.add(stuck);
    await later();
    const counts = await sweeper({ retentionDays: now, sandboxRetentionHours: null }).sweep();
    expect(counts).toEqual({ sandboxesRemoved: 0, sessionsPurged: 2, rowsRemoved: 700 + 3 });
    expect(removed).toEqual([failedWithSandbox]);
    for (const id of [stopped, failedWithSandbox]) expect(await store.getSession(id)).toBeNull();
    expect(await store.getSession(stuck)).toMatchObject({ status: "failed", sandbox });
    expect(await store.getSession(live)).toMatchObject({ status: "running" });
    // A paused session has not ended: only its sandbox has a retention.
    expect(await store.getSession(paused)).toMatchObject({ status: "paused", sandbox });
  });
});
