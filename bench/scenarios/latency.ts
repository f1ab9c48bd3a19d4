/**
 * Latency at a fixed rate: the agent stamps each chunk with the time it wrote it; each SSE client records when
 * it arrived (same machine, same clock). p50/p99/max over every chunk at every client.
 */
import { startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { readSse } from "../lib/sse.ts";
import { round, summarize } from "../lib/stats.ts";

export async function latency(ctx: BenchContext): Promise<void> {
  const seconds = ctx.quick ? 0.5 : 5;
  const server = await startBenchServer();
  try {
    for (const [rate, clients] of ctx.quick ? [[1000, 3]] : [[1000, 1], [1000, 100], [10_000, 1], [10_000, 10]]) {
      const n = Math.round(rate * seconds);
      const { id } = await server.readySession();
      const url = `${server.url}/v1/sessions/${id}/events`;
      const readers = Array.from({ length: clients }, () => readSse(url, { latency: true, onFrame: (f) => f.includes("event: turn.ended") }));
      await new Promise((r) => setTimeout(r, 200));
      await server.api("POST", `/v1/sessions/${id}/prompt`, { text: `burst ${n} rate ${rate}` });
      const stats = await Promise.all(readers);
      const all = stats.flatMap((s) => s.latencies);
      const { p50, p99, max } = summarize(all);
      const lost = stats.reduce((sum, s) => sum + (n - s.chunks), 0);
      ctx.results.set(`latency/${rate}/${clients}/p99`, p99);
      ctx.results.set(`latency/${rate}/${clients}/p50`, p50);
      const target = rate === 1000 && clients === 100 ? "p99 < 10" : undefined;
      ctx.record({ scenario: "latency", metric: `${rate}/s, ${clients} client${clients > 1 ? "s" : ""}: p50 / p99 / max`, value: round(p99, 2), unit: "ms p99", target, note: `p50 ${round(p50, 2)} ms, max ${round(max, 1)} ms, lost ${lost}` });
      if (lost) throw new Error(`latency run lost ${lost} events`);
      await server.api("DELETE", `/v1/sessions/${id}`);
    }
  } finally {
    await server.stop();
  }
}
