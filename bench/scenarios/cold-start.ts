/**
 * Cold start: POST /v1/sessions → status ready, with the local provider and the scripted agent
 * (workspace, baseline, relay, bubblewrap, ACP initialize and session/new).
 */
import { startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { percentile, round } from "../lib/stats.ts";

export async function coldStart(ctx: BenchContext): Promise<void> {
  const count = ctx.quick ? 3 : 20;
  const server = await startBenchServer();
  try {
    await server.api("DELETE", `/v1/sessions/${(await server.readySession()).id}`); // warm up the server's code paths
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const { id, ms } = await server.readySession();
      times.push(ms);
      await server.api("DELETE", `/v1/sessions/${id}`);
    }
    times.sort((a, b) => a - b);
    ctx.record({ scenario: "cold start", metric: `create → ready, p50 of ${count}`, value: round(percentile(times, 50), 0), unit: "ms", target: "< 300" });
    ctx.record({ scenario: "cold start", metric: `create → ready, p95 of ${count}`, value: round(percentile(times, 95), 0), unit: "ms" });
  } finally {
    await server.stop();
  }
}
