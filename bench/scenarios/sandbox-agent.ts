/**
 * The same burst and latency scenarios through sandbox-agent's ACP-over-HTTP SSE stream, with the same
 * scripted agent, and Airlock / sandbox-agent ratios from this run.
 *
 * What each side guarantees: sandbox-agent relays in memory (a 1,024-message ring per stream for replay);
 * Airlock journals every message in the sandbox and stores it before delivery (gapless, replayable, durable).
 */
import type { BenchContext } from "../lib/context.ts";
import { sandboxAgentAvailable, startSandboxAgent } from "../lib/sandbox-agent.ts";
import { readSse } from "../lib/sse.ts";
import { round, summarize } from "../lib/stats.ts";

export async function sandboxAgent(ctx: BenchContext): Promise<void> {
  if (!sandboxAgentAvailable()) {
    ctx.record({ scenario: "sandbox-agent", metric: "not installed (npm ci installs @sandbox-agent/cli-linux-x64)", value: 0, unit: "" });
    return;
  }
  const server = await startSandboxAgent();
  let id = 10;
  try {
    const run = async (prompt: string, n: number, latency: boolean) => {
      const name = `bench-${id}`;
      await server.rpc(name, id++, "initialize", { protocolVersion: 1, clientCapabilities: {} }, "mock");
      const session = await server.rpc(name, id++, "session/new", { cwd: "/tmp", mcpServers: [] });
      const abort = new AbortController();
      let lastFrame = performance.now();
      const reading = readSse(`${server.url}/v1/acp/${name}`, { latency, signal: abort.signal, onFrame: (_f, s) => ((lastFrame = performance.now()), s.chunks >= n) });
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      await server.rpc(name, id++, "session/prompt", { sessionId: session.result.sessionId, prompt: [{ type: "text", text: prompt }] });
      // Events lost by the relay never arrive: stop once the stream has been quiet for a second.
      const quiet = setInterval(() => performance.now() - lastFrame > 1000 && abort.abort(), 100);
      const stats = await reading;
      clearInterval(quiet);
      const end = stats.chunks >= n ? stats.lastAt - performance.timeOrigin : lastFrame;
      return { stats, seconds: (end - t0) / 1000 };
    };

    const n = ctx.quick ? 2000 : 200_000;
    const b = await run(`burst ${n}`, n, false);
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
      const l = await run(`burst ${count} rate ${rate}`, count, true);
      const { p50, p99, max } = summarize(l.stats.latencies);
      const ours = ctx.results.get(`latency/${rate}/1/p99`);
      ctx.record({
        scenario: "sandbox-agent",
        metric: `${rate}/s, 1 client: p50 / p99 / max`,
        value: round(p99, 2),
        unit: "ms p99",
        note: `p50 ${round(p50, 2)} ms, max ${round(max, 1)} ms, lost ${count - l.stats.chunks}${ours ? `; Airlock p99 ${round(ours, 2)} ms` : ""}`,
      });
    }
  } finally {
    await server.stop();
  }
}
