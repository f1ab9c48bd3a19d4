/**
 * Concurrency: many sessions streaming at once, one SSE client each; total events/s and p99 latency.
 */
import { startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { readSse } from "../lib/sse.ts";
import { round, summarize } from "../lib/stats.ts";

export async function concurrency(ctx: BenchContext): Promise<void> {
  const sessions = ctx.quick ? 3 : 50;
  // 50 agents, 50 relays, the server and the clients share two cores: 100/s each keeps the load steady.
  const perSession = ctx.quick ? 100 : 1000;
  const rate = 100;
  const server = await startBenchServer();
  try {
    const ids: string[] = [];
    for (let i = 0; i < sessions; i += 10) ids.push(...(await Promise.all(Array.from({ length: Math.min(10, sessions - i) }, () => server.readySession()))).map((s) => s.id));
    const readers = ids.map((id) => readSse(`${server.url}/v1/sessions/${id}/events`, { latency: true, onFrame: (f) => f.includes("event: turn.ended") }));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await Promise.all(ids.map((id) => server.api("POST", `/v1/sessions/${id}/prompt`, { text: `burst ${perSession} rate ${rate}` })));
    const stats = await Promise.all(readers);
    const seconds = (performance.now() - t0) / 1000;
    const total = stats.reduce((s, x) => s + x.chunks, 0);
    const { p50, p99 } = summarize(stats.flatMap((s) => s.latencies));
    const lost = sessions * perSession - total;
    ctx.record({ scenario: "concurrency", metric: `${sessions} sessions × ${rate}/s at once: total throughput`, value: round(total / seconds, 0), unit: "events/s", note: `lost ${lost}` });
    ctx.record({ scenario: "concurrency", metric: `${sessions} sessions × ${rate}/s at once: p99 latency`, value: round(p99, 2), unit: "ms", note: `p50 ${round(p50, 2)} ms` });
    if (lost) throw new Error(`concurrency run lost ${lost} events`);
  } finally {
    await server.stop();
  }
}
