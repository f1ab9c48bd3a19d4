/**
 * Store: commits/s and events/s appended through each store the way sessions append, in one run on one machine —
 * SQLite, PostgreSQL, and PostgreSQL with group commit off (what grouping buys).
 *
 * Two loads. Live: many sessions, each committing small batches one after another (a driver awaits each commit
 * before the next: 50 sessions streaming tokens). Burst: one session committing large batches (an agent
 * flooding its journal). No HTTP, no sandbox: the store alone, with the batches made before the clock starts.
 * Every session's log is checked gapless and complete at the end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NewEvent, StoreV1 } from "@airlock/protocol";
import { createPostgresStore, createSqliteStore } from "../../packages/server/src/store/index.ts";
import { createTestDatabase, sessionRecord } from "@airlock/testkit";
import type { BenchContext } from "../lib/context.ts";
import { percentile, round } from "../lib/stats.ts";

interface Opened {
  store: StoreV1;
  /** Removes what the store made (file, database). */
  remove(): Promise<void>;
}

const stores: Array<[name: string, open: () => Promise<Opened>]> = [
  [
    "sqlite",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "airlock-bench-store-"));
      return { store: createSqliteStore({ path: join(dir, "bench.db") }), remove: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  ["postgres", () => postgres({})],
  ["postgres, no group commit", () => postgres({ maxBatches: 1 })],
];

async function postgres(commit: { maxBatches?: number }): Promise<Opened> {
  const db = await createTestDatabase("bench");
  return { store: createPostgresStore({ url: db.url, commit }), remove: () => db.drop() };
}

// A streamed agent message: the most common event by far.
const batchOf = (n: number, from: number): NewEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    type: "update",
    turnId: "turn_0000000000000000000000",
    data: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: `token ${from + i} ` } },
  }));

interface Load {
  name: string;
  sessions: number;
  batch: number;
  commitsPerSession: number;
}

export async function store(ctx: BenchContext): Promise<void> {
  const loads: Load[] = ctx.quick
    ? [
        { name: "live", sessions: 4, batch: 5, commitsPerSession: 10 },
        { name: "burst", sessions: 1, batch: 500, commitsPerSession: 4 },
      ]
    : [
        { name: "live", sessions: 50, batch: 5, commitsPerSession: 200 },
        { name: "burst", sessions: 1, batch: 500, commitsPerSession: 200 },
      ];
  for (const load of loads) {
    for (const [name, open] of stores) {
      const { store, remove } = await open();
      try {
        await store.migrate();
        const r = await run(store, load);
        const events = r.commits * load.batch;
        ctx.results.set(`store/${name}/${load.name}/events_per_s`, events / r.seconds);
        ctx.record({
          scenario: "store",
          metric: `${name}: ${load.sessions} session${load.sessions > 1 ? "s" : ""} × batches of ${load.batch}`,
          value: round(r.commits / r.seconds, 0),
          unit: "commits/s",
          note: `${round(events / r.seconds, 0)} events/s; commit p50 ${round(r.p50, 2)} ms, p99 ${round(r.p99, 2)} ms; this process ${round((r.cpuSeconds * 1e6) / events, 2)} µs CPU per event`,
        });
      } finally {
        await store.close();
        await remove();
      }
    }
  }
}

async function run(store: StoreV1, load: Load) {
  const sessions = Array.from({ length: load.sessions }, () => sessionRecord({ tenant: "bench", status: "running" }));
  for (const s of sessions) await store.createSession(s, []);
  // The batches first: the bench measures the store, not the making of test data.
  const work = sessions.map(() => Array.from({ length: load.commitsPerSession }, (_, c) => batchOf(load.batch, c * load.batch)));
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    sessions.map(async (s, i) => {
      for (const [c, events] of work[i].entries()) {
        const started = performance.now();
        await store.commit(s.id, { events, journalOffset: c + 1 });
        latencies.push(performance.now() - started);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const expected = load.commitsPerSession * load.batch;
  for (const s of sessions) {
    const stored = await store.getSession(s.id);
    const last = await store.readEvents(s.id, expected - 1, 10);
    if (stored?.lastSeq !== expected || last.length !== 1 || last[0].seq !== expected) {
      throw new Error(`session ${s.id}: expected ${expected} events, stored lastSeq ${stored?.lastSeq}`);
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    commits: load.sessions * load.commitsPerSession,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
