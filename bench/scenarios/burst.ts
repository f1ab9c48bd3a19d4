/**
 * Burst throughput: the scripted agent emits N chunks as fast as it can; events/s from the prompt to the last
 * SSE client having received the turn's end — through sandboxd's journal, the store and the fan-out. Clients
 * beyond the first run in child processes (see latency.ts), and the CPU split says where the time went.
 */
import { startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { cpuBetween, describeCpu, sampleTree } from "../lib/cpu.ts";
import { readSse } from "../lib/sse.ts";
import { spreadClients } from "../lib/sse-clients.ts";
import { round } from "../lib/stats.ts";

const clientProcesses = 2;

export async function burst(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 2000 : 200_000;
  const server = await startBenchServer();
  try {
    for (const clients of ctx.quick ? [1, 3] : [1, 10, 100]) {
      const { id } = await server.readySession();
      const url = `${server.url}/v1/sessions/${id}/events`;
      const until = "event: turn.ended";
      const spread = clients > 1 ? await spreadClients(url, clients - 1, clientProcesses, { latency: false, until }) : null;
      const reader = readSse(url, { onFrame: (f) => f.includes(until) });
      await new Promise((r) => setTimeout(r, 200)); // all subscribed
      const cpu0 = sampleTree(server.pid);
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      await server.api("POST", `/v1/sessions/${id}/prompt`, { text: `burst ${n}` });
      const stats = [await reader, ...((await spread?.done) ?? [])];
      const seconds = (performance.now() - t0) / 1000;
      const own = process.cpuUsage(own0);
      const cpu = describeCpu(cpuBetween(cpu0, sampleTree(server.pid)), (own.user + own.system) / 1e6 + (spread?.cpuSeconds() ?? 0));
      const rate = n / seconds;
      const lost = stats.reduce((sum, s) => sum + (n - s.chunks), 0);
      const gaps = stats.reduce((sum, s) => sum + s.gaps + s.duplicates, 0);
      ctx.results.set(`burst/${clients}`, rate);
      const ceiling = ctx.results.get("ceiling/events_per_s");
      ctx.record({
        scenario: "burst",
        metric: `${n} chunks → stored → ${clients} SSE client${clients > 1 ? "s" : ""}`,
        value: round(rate, 0),
        unit: "events/s",
        target: clients === 1 ? "≥ 50000" : undefined,
        note: `lost ${lost}, gaps/dups ${gaps}${ceiling ? `, ${round((100 * rate) / ceiling, 0)}% of ceiling` : ""}; ${cpu}`,
      });
      if (lost || gaps) throw new Error(`burst to ${clients} clients lost ${lost} events, ${gaps} gaps/duplicates`);
      await server.api("DELETE", `/v1/sessions/${id}`);
    }
  } finally {
    await server.stop();
  }
}
