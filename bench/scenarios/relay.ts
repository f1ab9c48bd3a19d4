/**
 * The relay alone: the scripted agent under sandboxd (no bubblewrap, no server), its journal read over the
 * relay's own stream. Between the ceiling (a bare reader) and the whole pipeline, it shows the relay's share:
 * the burst rate through the journal, and the relay's CPU per event at a steady rate (one event per wake-up).
 */
import { spawn } from "node:child_process";
import type { BenchContext } from "../lib/context.ts";
import { cpuSeconds as cpuOf } from "../lib/cpu.ts";
import { startBareRelay } from "../lib/relay.ts";
import { round } from "../lib/stats.ts";

const cpuSeconds = (pid: number) => cpuOf(pid) ?? NaN;

export async function relay(ctx: BenchContext): Promise<void> {
  const relay = await startBareRelay();
  try {
    await relay.request("i", "initialize", { protocolVersion: 1, clientCapabilities: {} });
    const session = (await relay.request("n", "session/new", { cwd: "/tmp", mcpServers: [] })).result.sessionId as string;
    let after = 0;
    const turn = async (text: string, n: number) => {
      let chunks = 0;
      let reads = 0;
      const done = new AbortController();
      const reading = relay.client.follow(
        after,
        (records) => {
          reads++;
          for (const r of records) {
            after = r.seq;
            if (r.kind === "agent" && (r.msg as { method?: string }).method === "session/update") chunks++;
          }
          if (chunks >= n) done.abort();
        },
        done.signal,
      );
      const cpu0 = cpuSeconds(relay.pid);
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      await relay.client.send({ jsonrpc: "2.0", id: `p${after}`, method: "session/prompt", params: { sessionId: session, prompt: [{ type: "text", text }] } });
      // A stream that stops short says where, instead of leaving the benchmark (or its smoke test) hanging.
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the relay's stream stalled: ${chunks} of ${n} chunks after 60 s (${reads} batches, last seq ${after})`)), 60_000);
      });
      await Promise.race([reading, stalled]).finally(() => clearTimeout(timer));
      const seconds = (performance.now() - t0) / 1000;
      const own = process.cpuUsage(own0);
      return { seconds, reads, relayCpu: cpuSeconds(relay.pid) - cpu0, readerCpu: (own.user + own.system) / 1e6 };
    };

    const n = ctx.quick ? 2000 : 200_000;
    const b = await turn(`burst ${n}`, n);
    const rate = n / b.seconds;
    const ceiling = ctx.results.get("ceiling/events_per_s");
    ctx.results.set("relay/events_per_s", rate);
    ctx.record({
      scenario: "relay",
      metric: `burst of ${n} through sandboxd's journal to its stream`,
      value: round(rate, 0),
      unit: "events/s",
      note: `${ceiling ? `${round((100 * rate) / ceiling, 0)}% of ceiling; ` : ""}relay CPU ${round((1e6 * b.relayCpu) / n, 1)} µs/event, ${b.reads} batches read`,
    });

    const steady = ctx.quick ? 50 : 1000;
    const s = await turn(`burst ${steady} rate 100`, steady);
    const floor = await wakeCost(ctx.quick ? 50 : 500);
    ctx.record({
      scenario: "relay",
      metric: `${steady} chunks at 100/s: relay CPU per event`,
      value: round((1e6 * s.relayCpu) / steady, 0),
      unit: "µs",
      note: `one wake-up per event (the reader's: ${round((1e6 * s.readerCpu) / steady, 0)} µs/event; a bare Node process reading one line every 10 ms: ${round(floor, 0)} µs/line); at a burst: ${round((1e6 * b.relayCpu) / n, 1)} µs`,
    });
  } finally {
    await relay.stop();
  }
}

/**
 * What this machine charges for waking a process: CPU µs per line of a bare Node process that reads a line
 * every 10 ms and does nothing with it — the floor under every per-event figure at a steady rate.
 */
async function wakeCost(lines: number): Promise<number> {
  const child = spawn(process.execPath, ["-e", "process.stdin.on('data', () => {})"], { stdio: ["pipe", "ignore", "ignore"] });
  await new Promise((r) => setTimeout(r, 300));
  const before = cpuSeconds(child.pid!);
  for (let i = 0; i < lines; i++) {
    child.stdin.write(`{"jsonrpc":"2.0","method":"session/update","params":{"n":${i}}}\n`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const used = cpuSeconds(child.pid!) - before;
  child.kill();
  return (1e6 * used) / lines;
}
