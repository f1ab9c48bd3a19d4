/**
 * Footprint: the server's RSS per idle live session (each with its relay and agent running beside it) and
 * with 1,000 open SSE connections.
 */
import { startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { round } from "../lib/stats.ts";

const settle = () => new Promise((r) => setTimeout(r, 1500));

export async function footprint(ctx: BenchContext): Promise<void> {
  const sessions = ctx.quick ? 5 : 100;
  const connections = ctx.quick ? 20 : 1000;
  const server = await startBenchServer();
  try {
    const warm = await server.readySession();
    await settle();
    const base = server.rssMb();
    for (let i = 0; i < sessions; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, sessions - i) }, () => server.readySession()));
    }
    await settle();
    const perSession = (server.rssMb() - base) / sessions;
    ctx.record({ scenario: "footprint", metric: `server RSS per idle live session (${sessions} sessions)`, value: round(perSession, 2), unit: "MB", target: "≤ 1", note: `server ${round(server.rssMb(), 0)} MB in all` });

    const before = server.rssMb();
    const aborts: AbortController[] = [];
    let opened = 0;
    for (let i = 0; i < connections; i++) {
      const abort = new AbortController();
      aborts.push(abort);
      const res = await fetch(`${server.url}/v1/sessions/${warm.id}/events`, { headers: { accept: "text/event-stream" }, signal: abort.signal });
      if (res.ok) opened++;
      void res.body?.getReader().read().catch(() => {});
    }
    await settle();
    const withConnections = server.rssMb();
    ctx.record({ scenario: "footprint", metric: `server RSS with ${opened} open SSE connections`, value: round(withConnections, 0), unit: "MB", target: connections >= 1000 ? "≤ 200" : undefined, note: `+${round(withConnections - before, 1)} MB for the connections` });
    for (const a of aborts) a.abort();
  } finally {
    await server.stop();
  }
}
