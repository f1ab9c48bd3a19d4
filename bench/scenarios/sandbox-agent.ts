/**
 * The same burst, latency and concurrency scenarios through sandbox-agent's ACP-over-HTTP SSE stream, with the
 * same scripted agent, and Airlock / sandbox-agent ratios from this run.
 *
 * What each side guarantees: sandbox-agent relays in memory (a 1,024-message ring per stream for replay): what
 * a client does not read in time is gone, and a restart loses everything. Airlock journals every message in
 * the sandbox and stores it before delivery (gapless per-session seq, replayable by any number of clients,
 * across restarts of the server). sandbox-agent is one Rust process; Airlock adds a relay process per session
 * (its journal) and the store.
 */
import type { BenchContext } from "../lib/context.ts";
import { cpuBetween, describeCpu, sampleTree } from "../lib/cpu.ts";
import { type SandboxAgentServer, sandboxAgentAvailable, startSandboxAgent } from "../lib/sandbox-agent.ts";
import { type SseStats, readSse } from "../lib/sse.ts";
import { medianRun, p99After, round, summarize } from "../lib/stats.ts";
import { latencyRepeats } from "./latency.ts";

let nextId = 10;

/** Opens an ACP server (its agent process) on sandbox-agent and its SSE stream; `prompt` runs a turn. */
async function openAcp(server: SandboxAgentServer, latency: boolean, expected: number) {
  const name = `bench-${nextId}`;
  await server.rpc(name, nextId++, "initialize", { protocolVersion: 1, clientCapabilities: {} }, "mock");
  const session = await server.rpc(name, nextId++, "session/new", { cwd: "/tmp", mcpServers: [] });
  const abort = new AbortController();
  const state = { lastFrame: performance.now() };
  const reading = readSse(`${server.url}/v1/acp/${name}`, {
    latency,
    signal: abort.signal,
    onFrame: (_f, s) => {
      state.lastFrame = performance.now();
      return s.chunks >= expected;
    },
  });
  return {
    prompt: (text: string) => server.rpc(name, nextId++, "session/prompt", { sessionId: session.result.sessionId, prompt: [{ type: "text", text }] }),
    /** Events lost by the relay never arrive: the stream is done once it has been quiet for a second. */
    async done(): Promise<{ stats: SseStats; end: number }> {
      const quiet = setInterval(() => performance.now() - state.lastFrame > 1000 && abort.abort(), 100);
      const stats = await reading;
      clearInterval(quiet);
      return { stats, end: stats.chunks >= expected ? stats.lastAt - performance.timeOrigin : state.lastFrame };
    },
  };
}

async function run(server: SandboxAgentServer, prompt: string, n: number, latency: boolean) {
  const acp = await openAcp(server, latency, n);
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  await acp.prompt(prompt);
  const { stats, end } = await acp.done();
  return { stats, seconds: (end - t0) / 1000 };
}

export async function sandboxAgent(ctx: BenchContext): Promise<void> {
  if (!sandboxAgentAvailable()) {
    ctx.record({ scenario: "sandbox-agent", metric: "not installed (npm ci installs @sandbox-agent/cli-linux-x64)", value: 0, unit: "" });
    return;
  }
  const server = await startSandboxAgent();
  try {
    const n = ctx.quick ? 2000 : 200_000;
    const b = await run(server, `burst ${n}`, n, false);
    const delivered = b.stats.chunks / b.seconds;
    const airlock = ctx.results.get("burst/1");
    ctx.record({
      scenario: "sandbox-agent",
      metric: `${n} chunks → 1 SSE client (delivered)`,
      value: round(delivered, 0),
      unit: "events/s",
      note: `received ${b.stats.chunks}/${n} (lost ${n - b.stats.chunks}), id gaps ${b.stats.gaps}${airlock ? `; Airlock/sandbox-agent = ${round(airlock / delivered, 2)}` : ""}`,
    });

    for (const rate of ctx.quick ? [1000] : [1000, 10_000]) {
      const count = Math.round(rate * (ctx.quick ? 0.5 : 5));
      const runs: Array<{ p50: number; p99: number; max: number; lost: number }> = [];
      for (let r = 0; r < (ctx.quick ? 1 : latencyRepeats); r++) {
        const l = await run(server, `burst ${count} rate ${rate}`, count, true);
        runs.push({ ...summarize(l.stats.latencies), lost: count - l.stats.chunks });
      }
      const { p50, p99, max, lost } = medianRun(runs);
      const ours = ctx.results.get(`latency/${rate}/1/p99`);
      ctx.record({
        scenario: "sandbox-agent",
        metric: `${rate}/s, 1 client: p50 / p99 / max`,
        value: round(p99, 2),
        unit: "ms p99",
        note:
          `${runs.length > 1 ? `median of ${runs.length} runs (p99s ${runs.map((x) => round(x.p99, 2)).join(", ")} ms); ` : ""}` +
          `p50 ${round(p50, 2)} ms, max ${round(max, 1)} ms, lost ${lost}${ours ? `; Airlock p99 ${round(ours, 2)} ms, Airlock/sandbox-agent = ${round(ours / p99, 2)}` : ""}`,
      });
    }

    // Concurrency: the same loads as Airlock's concurrency scenario, one ACP server (agent) per session.
    const sessions = ctx.quick ? 3 : 50;
    const steady = ctx.quick ? 20 : 200;
    const burst = ctx.quick ? 500 : 4000;
    const many = async (prompt: string, perSession: number, latency: boolean) => {
      const acps = [];
      for (let i = 0; i < sessions; i++) acps.push(await openAcp(server, latency, perSession));
      await new Promise((r) => setTimeout(r, 300));
      const cpu0 = sampleTree(process.pid);
      const t0 = performance.now();
      await Promise.all(acps.map((a) => a.prompt(prompt)));
      const results = await Promise.all(acps.map((a) => a.done()));
      const received = results.reduce((s, r) => s + r.stats.chunks, 0);
      const end = Math.max(...results.map((r) => r.end));
      return { results, received, lost: sessions * perSession - received, seconds: (end - t0) / 1000, cpu: cpuBetween(cpu0, sampleTree(process.pid)) };
    };
    const c = await many(`burst ${steady} rate 20`, steady, true);
    const cl = summarize(c.results.flatMap((r) => r.stats.latencies));
    const oursP99 = ctx.results.get("concurrency/p99");
    const oursSteady = ctx.results.get("concurrency/p99-after-1s");
    const clSteady = p99After(c.results.map((r) => r.stats.latencies), 20);
    ctx.record({
      scenario: "sandbox-agent",
      metric: `${sessions} sessions × 20/s at once (${sessions * 20}/s): p99 latency`,
      value: round(cl.p99, 2),
      unit: "ms",
      note: `p50 ${round(cl.p50, 2)} ms, max ${round(cl.max, 1)} ms, lost ${c.lost}${Number.isFinite(clSteady) ? `; after the first second p99 ${round(clSteady, 2)} ms` : ""}${oursP99 ? `; Airlock p99 ${round(oursP99, 2)} ms${Number.isFinite(oursSteady ?? NaN) ? ` (after the first second ${round(oursSteady!, 2)} ms)` : ""}` : ""}; ${describeCpu(c.cpu, undefined, "benchmark (clients)")}`,
    });
    const cb = await many(`burst ${burst}`, burst, false);
    const cbRate = cb.received / cb.seconds;
    const oursBurst = ctx.results.get("concurrency/burst");
    ctx.record({
      scenario: "sandbox-agent",
      metric: `${sessions} sessions × burst of ${burst} at once: delivered`,
      value: round(cbRate, 0),
      unit: "events/s",
      note: `received ${cb.received}/${sessions * burst} (lost ${cb.lost})${oursBurst ? `; Airlock/sandbox-agent = ${round(oursBurst / cbRate, 2)}` : ""}`,
    });
  } finally {
    await server.stop();
  }
}
