/**
 * Concurrency: 50 sessions streaming at once, one SSE client each.
 *
 * Two loads: a steady 20 chunks/s per session (1,000 events/s in all, about an LLM's token rate per session)
 * for latency, then every session bursting at once for the total throughput the machine reaches. Each event
 * wakes the session's own agent and relay processes: at a steady rate that costs a few hundred µs of CPU per
 * process per event here, so 100 processes on two cores saturate well below the single-session burst rate;
 * the CPU split says which processes the time went to.
 */
import { journalLags, startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { cpuBetween, describeCpu, sampleTree } from "../lib/cpu.ts";
import { readSse } from "../lib/sse.ts";
import { p99After, round, stageSplit, summarize } from "../lib/stats.ts";

export async function concurrency(ctx: BenchContext): Promise<void> {
  const sessions = ctx.quick ? 3 : 50;
  const rate = 20;
  const steady = ctx.quick ? 20 : 200;
  const burst = ctx.quick ? 500 : 4000;
  const server = await startBenchServer();
  try {
    const ids: string[] = [];
    for (let i = 0; i < sessions; i += 10) ids.push(...(await Promise.all(Array.from({ length: Math.min(10, sessions - i) }, () => server.readySession()))).map((s) => s.id));

    /** Prompts every session at once; resolves with what the clients saw once every turn has ended. */
    const run = async (prompt: string, perSession: number, latency: boolean) => {
      const after = await Promise.all(ids.map(async (id) => (await server.api("GET", `/v1/sessions/${id}`)).lastSeq as number));
      const readers = ids.map((id, i) => readSse(`${server.url}/v1/sessions/${id}/events?after=${after[i]}`, { latency, stages: latency, onFrame: (f) => f.includes("event: turn.ended") }));
      await new Promise((r) => setTimeout(r, 300));
      const cpu0 = sampleTree(server.pid);
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(ids.map((id) => server.api("POST", `/v1/sessions/${id}/prompt`, { text: prompt })));
      const stats = await Promise.all(readers);
      const seconds = (performance.now() - t0) / 1000;
      const own = process.cpuUsage(own0);
      const cpu = describeCpu(cpuBetween(cpu0, sampleTree(server.pid)), (own.user + own.system) / 1e6);
      const received = stats.reduce((s, x) => s + x.chunks, 0);
      const lost = sessions * perSession - received;
      const gaps = stats.reduce((s, x) => s + x.gaps + x.duplicates, 0);
      if (lost || gaps) throw new Error(`concurrency run "${prompt}" lost ${lost} events, ${gaps} gaps/duplicates`);
      return { stats, seconds, received, cpu };
    };

    const s = await run(`burst ${steady} rate ${rate}`, steady, true);
    const { p50, p99, max } = summarize(s.stats.flatMap((x) => x.latencies));
    const stages = stageSplit(ids.flatMap((id) => journalLags(server.dataDir, id)), s.stats.flatMap((x) => x.toStore));
    const steadyP99 = p99After(s.stats.map((x) => x.latencies), rate);
    ctx.results.set("concurrency/p99", p99);
    ctx.results.set("concurrency/p99-after-1s", steadyP99);
    ctx.record({
      scenario: "concurrency",
      metric: `${sessions} sessions × ${rate}/s at once (${sessions * rate}/s): p99 latency`,
      value: round(p99, 2),
      unit: "ms",
      note: `p50 ${round(p50, 2)} ms, max ${round(max, 1)} ms, lost 0; ${Number.isFinite(steadyP99) ? `after the first second (all ${sessions} turns starting at once) p99 ${round(steadyP99, 2)} ms; ` : ""}${stages}; ${s.cpu}`,
    });

    const b = await run(`burst ${burst}`, burst, false);
    const rateAll = b.received / b.seconds;
    const ceiling = ctx.results.get("ceiling/events_per_s");
    ctx.results.set("concurrency/burst", rateAll);
    ctx.record({
      scenario: "concurrency",
      metric: `${sessions} sessions × burst of ${burst} at once: total throughput`,
      value: round(rateAll, 0),
      unit: "events/s",
      note: `lost 0, gaps/dups 0${ceiling ? `, ${round((100 * rateAll) / ceiling, 0)}% of ceiling` : ""}; ${b.cpu}`,
    });
  } finally {
    await server.stop();
  }
}
