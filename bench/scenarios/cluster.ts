/**
 * Several nodes on one PostgreSQL (three server processes sharing a data folder), beside one SQLite node in the
 * same run:
 * - burst: the agent of a session owned by node A emits N chunks; events/s until an SSE client on node B has the
 *   turn's end (agent → relay → A → PostgreSQL → doorbell → B → client), nothing lost;
 * - fan-out: 1,000 events/s to 100 subscribers spread over the three nodes, p99 agent → client;
 * - many sessions: 150 sessions × 10 events/s spread over the nodes, each watched from another node: p99, and the
 *   commits and NOTIFYs per second the nodes sent (their /healthz counters);
 * - failover: SIGKILL of a streaming session's owner → the first event stored by the new owner reaches a client
 *   on a third node; p50 and max over the runs (then the killed node starts again).
 * Leases are short here (TTL 2 s, renewal 400 ms) so that a run of failovers takes a minute, not ten.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "@airlock/testkit";
import { type BenchServer, startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { type SseStats, readSse } from "../lib/sse.ts";
import { describeMachineCpu, sampleMachine } from "../lib/cpu.ts";
import { spreadClients } from "../lib/sse-clients.ts";
import { p99After, round, summarize } from "../lib/stats.ts";

const leaseTtlMs = 2000;
/** Sizes of a full run can be lowered for a small machine: BENCH_CLUSTER_SIZES="burst,subscribers,sessions,runs". */
const sizes = (process.env.BENCH_CLUSTER_SIZES ?? "").split(",").map(Number);
const size = (i: number, full: number) => (Number.isInteger(sizes[i]) && sizes[i] > 0 ? sizes[i] : full);
const until = "event: turn.ended";

export async function cluster(ctx: BenchContext): Promise<void> {
  const db = await createTestDatabase("bench_cluster");
  const dataDir = mkdtempSync(join(tmpdir(), "airlock-bench-cluster-"));
  const env = (id: string) => ({ DATABASE_URL: db.url, AIRLOCK_NODE_ID: id, AIRLOCK_LEASE_TTL_MS: String(leaseTtlMs), AIRLOCK_LEASE_RENEW_MS: "400" });
  const nodes: BenchServer[] = [];
  const sqlite = await startBenchServer();
  try {
    for (const id of ["a", "b", "c"]) nodes.push(await startBenchServer(env(id), { dataDir }));
    await burst(ctx, nodes, sqlite);
    await fanOut(ctx, nodes);
    await manySessions(ctx, nodes);
    await failover(ctx, nodes, env);
  } finally {
    await sqlite.stop();
    for (const [i, n] of nodes.entries()) await (i === 0 ? n.stop() : n.kill()).catch(() => {});
    await db.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function burst(ctx: BenchContext, [a, b]: BenchServer[], sqlite: BenchServer): Promise<void> {
  const n = ctx.quick ? 2000 : size(0, 100_000);
  for (const [label, owner, reader] of [["SQLite, one node", sqlite, sqlite], ["PostgreSQL, node A → client on node B", a, b]] as const) {
    const { id } = await owner.readySession();
    const done = readSse(`${reader.url}/v1/sessions/${id}/events`, { onFrame: (f) => f.includes(until) });
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    await owner.api("POST", `/v1/sessions/${id}/prompt`, { text: `burst ${n}` });
    const stats = await done;
    const rate = n / ((performance.now() - t0) / 1000);
    const lost = n - stats.chunks;
    ctx.record({
      scenario: "cluster",
      metric: `burst ${n} chunks, ${label}`,
      value: round(rate, 0),
      unit: "events/s",
      target: owner === a ? "≥ 50000" : undefined,
      note: `lost ${lost}, gaps/dups ${stats.gaps + stats.duplicates}`,
    });
    await owner.api("DELETE", `/v1/sessions/${id}`);
  }
}

async function fanOut(ctx: BenchContext, nodes: BenchServer[]): Promise<void> {
  const clients = ctx.quick ? 9 : size(1, 100);
  const seconds = ctx.quick ? 2 : 5;
  const { id } = await nodes[0].readySession();
  const spreads = await Promise.all(
    nodes.map((node, i) => spreadClients(`${node.url}/v1/sessions/${id}/events`, Math.floor(clients / 3) + (i < clients % 3 ? 1 : 0), 1, { latency: true, until })),
  );
  await new Promise((r) => setTimeout(r, 300));
  const cpuBefore = sampleMachine();
  const t0 = performance.now();
  await nodes[0].api("POST", `/v1/sessions/${id}/prompt`, { text: `burst ${1000 * seconds} rate 1000` });
  const stats = (await Promise.all(spreads.map((s) => s.done))).flat();
  const cpu = describeMachineCpu(cpuBefore, sampleMachine(), (performance.now() - t0) / 1000);
  const perNode = spreads.map((_, i) => latencyOf(stats.filter((__, j) => nodeOfClient(j, clients) === i)));
  const all = latencyOf(stats);
  ctx.record({
    scenario: "cluster",
    metric: `1000/s, ${clients} subscribers over 3 nodes: p99`,
    value: round(all.p99, 1),
    unit: "ms",
    target: "p99 < 25",
    note: `p50 ${round(all.p50, 1)} ms, max ${round(all.max, 1)} ms; p99 on the owner ${round(perNode[0].p99, 1)} ms, on the others ${round(perNode[1].p99, 1)} / ${round(perNode[2].p99, 1)} ms; ${cpu} (SSE clients in "other"); lost ${lostOf(stats, 1000 * seconds)}`,
  });
  await nodes[0].api("DELETE", `/v1/sessions/${id}`);
}

async function manySessions(ctx: BenchContext, nodes: BenchServer[]): Promise<void> {
  const sessions = ctx.quick ? 15 : size(2, 150);
  const seconds = ctx.quick ? 3 : 10;
  const ids: Array<{ id: string; owner: number }> = [];
  for (let i = 0; i < sessions; i += 10) {
    const made = await Promise.all(Array.from({ length: Math.min(10, sessions - i) }, (_, k) => nodes[(i + k) % 3].readySession().then((s) => ({ id: s.id, owner: (i + k) % 3 }))));
    ids.push(...made);
  }
  const readers = ids.map(({ id, owner }) => readSse(`${nodes[(owner + 1) % 3].url}/v1/sessions/${id}/events`, { latency: true, stages: true, onFrame: (f) => f.includes(until) }));
  await new Promise((r) => setTimeout(r, 500));
  const before = await Promise.all(nodes.map((n) => n.api("GET", "/healthz")));
  const cpuBefore = sampleMachine();
  const t0 = performance.now();
  await Promise.all(ids.map(({ id, owner }) => nodes[owner].api("POST", `/v1/sessions/${id}/prompt`, { text: `burst ${10 * seconds} rate 10` })));
  const stats = await Promise.all(readers);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = describeMachineCpu(cpuBefore, sampleMachine(), elapsed);
  const stored = summarize(stats.flatMap((s) => s.toStore));
  const after = await Promise.all(nodes.map((n) => n.api("GET", "/healthz")));
  const delta = (k: "commits" | "notifies") => after.reduce((sum, h, i) => sum + h.storeStats[k] - before[i].storeStats[k], 0);
  const l = latencyOf(stats);
  ctx.record({
    scenario: "cluster",
    metric: `${sessions} sessions × 10 events/s over 3 nodes, watched from another node: p99`,
    value: round(l.p99, 1),
    unit: "ms",
    target: "p99 < 50",
    note: `p50 ${round(l.p50, 1)} ms, max ${round(l.max, 1)} ms, after the first second (all turns starting at once) p99 ${round(p99After(stats.map((s) => s.latencies), 10), 1)} ms; ${round(delta("commits") / elapsed, 0)} commits/s, ${round(delta("notifies") / elapsed, 0)} NOTIFYs/s (${sessions * 10} events/s); agent → stored p50 ${round(stored.p50, 1)} ms, p99 ${round(stored.p99, 1)} ms; ${cpu}; lost ${lostOf(stats, 10 * seconds)}`,
  });
  for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map(({ id, owner }) => nodes[owner].api("DELETE", `/v1/sessions/${id}`)));
}

async function failover(ctx: BenchContext, nodes: BenchServer[], env: (id: string) => Record<string, string>): Promise<void> {
  const runs = ctx.quick ? 2 : size(3, 10);
  const names = ["a", "b", "c"];
  const times: number[] = [];
  let lostChunks = 0;
  for (let run = 0; run < runs; run++) {
    const owner = run % 3;
    const watcher = (owner + 1) % 3;
    const { id } = await nodes[owner].readySession();
    let killedAt = Infinity;
    let firstAfter = 0;
    const done = readSse(`${nodes[watcher].url}/v1/sessions/${id}/events`, {
      onFrame: (f) => {
        if (!firstAfter && killedAt !== Infinity && f.includes('"type":"update"')) {
          // The first chunk stored after the kill: the new owner's.
          const at = Date.parse(/"at":"([^"]+)"/.exec(f)?.[1] ?? "");
          if (at >= killedAt) firstAfter = Date.now();
        }
        return f.includes(until);
      },
    });
    const count = 1500;
    await nodes[owner].api("POST", `/v1/sessions/${id}/prompt`, { text: `burst ${count} rate 300` });
    await new Promise((r) => setTimeout(r, 1000));
    await nodes[owner].kill();
    killedAt = Date.now(); // anything stored before now was the dead owner's
    const stats = await done;
    times.push(firstAfter - killedAt);
    lostChunks += count - stats.chunks + stats.gaps + stats.duplicates;
    nodes[owner] = await startBenchServer(env(names[owner]), { dataDir: nodes[owner].dataDir });
    await nodes[watcher].api("DELETE", `/v1/sessions/${id}`);
  }
  const s = summarize(times);
  ctx.record({
    scenario: "cluster",
    metric: `failover (owner SIGKILL → first event of the new owner), ${runs} runs: p50`,
    value: round(s.p50, 0),
    unit: "ms",
    target: `≤ ${leaseTtlMs + 2000} (TTL + 2 s)`,
    note: `max ${round(s.max, 0)} ms with lease TTL ${leaseTtlMs} ms, renewal 400 ms; chunks lost, repeated or out of order over all runs: ${lostChunks}`,
  });
}

function latencyOf(stats: SseStats[]) {
  return summarize(stats.flatMap((s) => s.latencies));
}

function lostOf(stats: SseStats[], each: number): number {
  return stats.reduce((sum, s) => sum + (each - s.chunks) + s.gaps + s.duplicates, 0);
}

/** spreadClients' results come node by node, in the order the clients were given out. */
function nodeOfClient(index: number, clients: number): number {
  let start = 0;
  for (let i = 0; i < 3; i++) {
    const share = Math.floor(clients / 3) + (i < clients % 3 ? 1 : 0);
    if (index < start + share) return i;
    start += share;
  }
  return 2;
}
