/**
 * Footprint: the server's RSS
 *  - per idle live session: ready, nothing to do, its relay and agent running beside it (100 of them: each
 *    brings two Node processes of its own, so a thousand would not fit in this machine's memory);
 *  - with 1,000 idle sessions: each made ready, then stopped by its idle timeout as DESIGN.md's lifecycle
 *    says (agent stopped, workspace kept, the next prompt resumes it);
 *  - with 1,000 open SSE connections.
 * Each figure is the growth over the server's RSS before, divided by the count: it includes whatever the
 * heap kept from the work of creating them, so it is an upper bound.
 */
import { readFileSync, readdirSync } from "node:fs";
import { type BenchServer, startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { round } from "../lib/stats.ts";

const signed = (mb: number) => (mb >= 0 ? `+${round(mb, 1)}` : `−${round(-mb, 1)}`);
let settleMs = 1500;
const settle = (ms = settleMs) => new Promise((r) => setTimeout(r, ms));

/** Creates `count` sessions, `parallel` at a time, each waited for until ready. */
async function createReady(server: BenchServer, count: number, body: Record<string, unknown> = {}, parallel = 10): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, () => server.readySession(body)));
    ids.push(...batch.map((s) => s.id));
  }
  return ids;
}

/** RSS of the sandbox relays (sandboxd processes) of this server's data folder. */
function relayRssMb(dataDir: string): { mb: number; processes: number } {
  let kb = 0;
  let processes = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (!cmd.includes("sandboxd") || !cmd.includes(dataDir)) continue;
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${name}/status`, "utf8"))?.[1] ?? 0);
      processes++;
    } catch {}
  }
  return { mb: kb / 1024, processes };
}

/** How many of the server's sessions have `status`. */
async function countStatus(server: BenchServer, status: string): Promise<number> {
  let n = 0;
  let before = "";
  for (;;) {
    const page = await server.api("GET", `/v1/sessions?status=${status}&limit=200${before ? `&before=${before}` : ""}`);
    n += page.sessions.length;
    if (!page.nextCursor) return n;
    before = page.nextCursor;
  }
}

export async function footprint(ctx: BenchContext): Promise<void> {
  const live = ctx.quick ? 5 : 100;
  const idle = ctx.quick ? 10 : 1000;
  const connections = ctx.quick ? 20 : 1000;
  // Long enough for the server's heap to settle; a smoke run only needs figures.
  settleMs = ctx.quick ? 200 : 1500;

  const server = await startBenchServer();
  try {
    const warm = await server.readySession();
    await settle();
    const base = server.rssMb();
    await createReady(server, live);
    await settle();
    const perSession = (server.rssMb() - base) / live;
    ctx.record({ scenario: "footprint", metric: `server RSS per idle live session (${live} sessions)`, value: round(perSession, 2), unit: "MB", target: "≤ 1", note: `server ${round(server.rssMb(), 0)} MB in all` });
    const relays = relayRssMb(server.dataDir);
    ctx.record({
      scenario: "footprint",
      metric: `relay RSS per idle live session (${live + 1} sessions)`,
      value: round(relays.mb / (live + 1), 2),
      unit: "MB",
      note: `${relays.processes} relay process${relays.processes === 1 ? "" : "es"}, ${round(relays.mb, 0)} MB in all (agents not counted: they are the user's)`,
    });

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
    ctx.record({ scenario: "footprint", metric: `server RSS with ${opened} open SSE connections`, value: round(withConnections, 0), unit: "MB", target: connections >= 1000 ? "≤ 200" : undefined, note: `${signed(withConnections - before)} MB over the RSS before them (garbage collection moves it either way)` });
    for (const a of aborts) a.abort();
  } finally {
    await server.stop();
  }

  const idleServer = await startBenchServer();
  try {
    await idleServer.api("DELETE", `/v1/sessions/${(await idleServer.readySession()).id}`);
    await settle();
    const base = idleServer.rssMb();
    const t0 = performance.now();
    await createReady(idleServer, idle, { idleTimeoutSec: 1 });
    for (let i = 0; (await countStatus(idleServer, "stopped")) < idle; i++) {
      if (i > 600) throw new Error(`sessions did not idle out: ${await countStatus(idleServer, "stopped")}/${idle} stopped`);
      await settle(200);
    }
    const seconds = (performance.now() - t0) / 1000;
    await settle();
    const rss = idleServer.rssMb();
    ctx.record({
      scenario: "footprint",
      metric: `server RSS per idle session (${idle} sessions, idled out)`,
      value: round((rss - base) / idle, 3),
      unit: "MB",
      target: "≤ 1",
      note: `server ${round(rss, 0)} MB in all, ${round(base, 0)} MB before; made ready and idled out in ${round(seconds, 0)} s`,
    });
  } finally {
    await idleServer.stop();
  }
}
