/**
 * Latency at a fixed rate: the agent stamps each chunk with the time it wrote it; each SSE client records when
 * it arrived (same machine, same clock). p50/p99/max over every chunk at every client, with the part spent
 * until the relay journaled it and until the server stored it, and which processes used the CPU.
 *
 * The clients are spread over child processes, as independent clients would be (a hundred readers in one
 * event loop would make that loop, not the server, set the tail).
 *
 * A tail on a shared two-core machine is mostly other processes' time slices: the 1-client figures are taken
 * `repeat` times and the median p99 is reported (every run's p99 is in the note).
 */
import { journalLags, startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { cpuBetween, describeCpu, sampleTree } from "../lib/cpu.ts";
import { hopFloor } from "../lib/floor.ts";
import { readSse } from "../lib/sse.ts";
import { spreadClients } from "../lib/sse-clients.ts";
import { medianRun, round, stageSplit, summarize } from "../lib/stats.ts";

export const latencyRepeats = 3;
/** Child processes the SSE clients of one run are spread over (2 to 4 gave the same tails here; all in one was worse). */
const clientProcesses = 2;

export async function latency(ctx: BenchContext): Promise<void> {
  const seconds = ctx.quick ? 0.5 : 5;
  // A chunk changes process 3 times (agent → sandboxd → server → client): the same handovers between bare
  // processes, a line each millisecond, are what this machine allows at 1,000/s.
  const floor = await hopFloor(3, ctx.quick ? 50 : 1000 * seconds, 1);
  const floorNote = `; the machine's floor (a line through 3 bare processes each ms): p50 ${round(floor.p50, 2)}, p99 ${round(floor.p99, 2)} ms, ${round(floor.cpuPerLineMs * 1000, 0)} µs of CPU per process and line`;
  const server = await startBenchServer();
  try {
    const cases: Array<[rate: number, clients: number]> = ctx.quick ? [[1000, 3]] : [[1000, 1], [1000, 100], [10_000, 1], [10_000, 10]];
    for (const [rate, clients] of cases) {
      const n = Math.round(rate * seconds);
      const repeats = clients === 1 && !ctx.quick ? latencyRepeats : 1;
      const runs: Array<{ p50: number; p99: number; max: number; detail: string }> = [];
      for (let r = 0; r < repeats; r++) {
        const { id } = await server.readySession();
        const url = `${server.url}/v1/sessions/${id}/events`;
        // One client here (it also splits the latency by stage); the others in child processes.
        const spread = clients > 1 ? await spreadClients(url, clients - 1, clientProcesses, { latency: true, until: "event: turn.ended" }) : null;
        const local = spread ? 1 : clients;
        const readers = Array.from({ length: local }, (_, i) => readSse(url, { latency: true, stages: i === 0, onFrame: (f) => f.includes("event: turn.ended") }));
        await new Promise((res) => setTimeout(res, 200));
        const cpu0 = sampleTree(server.pid);
        const own0 = process.cpuUsage();
        await server.api("POST", `/v1/sessions/${id}/prompt`, { text: `burst ${n} rate ${rate}` });
        const stats = [...(await Promise.all(readers)), ...((await spread?.done) ?? [])];
        const own = process.cpuUsage(own0);
        const cpu = describeCpu(cpuBetween(cpu0, sampleTree(server.pid)), (own.user + own.system) / 1e6 + (spread?.cpuSeconds() ?? 0));
        const lost = stats.reduce((sum, s) => sum + (n - s.chunks), 0);
        const gaps = stats.reduce((sum, s) => sum + s.gaps + s.duplicates, 0);
        if (lost || gaps) throw new Error(`latency run lost ${lost} events, ${gaps} gaps/duplicates`);
        const { p50, p99, max } = summarize(stats.flatMap((s) => s.latencies));
        runs.push({ p50, p99, max, detail: `${stageSplit(journalLags(server.dataDir, id), stats.flatMap((s) => s.toStore))}; ${cpu}` });
        await server.api("DELETE", `/v1/sessions/${id}`);
      }
      // The run with the median p99 is the one reported.
      const { p50, p99, max, detail } = medianRun(runs);
      ctx.results.set(`latency/${rate}/${clients}/p99`, p99);
      ctx.results.set(`latency/${rate}/${clients}/p50`, p50);
      const target = rate === 1000 && clients === 100 ? "p99 < 10" : undefined;
      const repeated = repeats > 1 ? `median of ${repeats} runs (p99s ${runs.map((x) => round(x.p99, 2)).join(", ")} ms); ` : "";
      ctx.record({
        scenario: "latency",
        metric: `${rate}/s, ${clients} client${clients > 1 ? "s" : ""}: p50 / p99 / max`,
        value: round(p99, 2),
        unit: "ms p99",
        target,
        note: `${repeated}p50 ${round(p50, 2)} ms, max ${round(max, 1)} ms, lost 0; ${detail}${rate === 1000 ? floorNote : ""}`,
      });
    }
  } finally {
    await server.stop();
  }
}
