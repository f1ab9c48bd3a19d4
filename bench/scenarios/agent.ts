/**
 * The built-in agent: how fast its process is ready for ACP, and how fast a token the LLM streams reaches an
 * SSE client — upstream → gateway → agent (in its sandbox) → sandboxd's journal → store → SSE.
 *
 * The scripted Anthropic server stamps each text delta with the wall-clock time it wrote it; the client
 * subtracts that from when the frame arrived (same machine, same clock). That is the upstream's write, one
 * loopback hop before the gateway receives it, so the figure is an upper bound on gateway → client. The
 * scripted server runs in a process of its own (its collections must not stall the tokens it stamps), and its
 * first token follows `message_start` by 4 ms, as the later ones follow each other: the first token races the
 * end of the turn's set-up (storing the prompt, the agent's request), which a real model's time to first token
 * (hundreds of ms) would hide.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { journalStamps, startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { cpuBetween, sampleTree, stealMeter } from "../lib/cpu.ts";
import { floorOf, startHopChain } from "../lib/floor.ts";
import { startLlmProcess } from "../lib/llm-process.ts";
import { readSse } from "../lib/sse.ts";
import { percentile, round, summarize } from "../lib/stats.ts";

const agentFile = fileURLToPath(new URL("../../packages/agent/dist/airlock-agent.mjs", import.meta.url));
const initialize = `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: 1, clientCapabilities: {} } })}\n`;
const bareNode = "process.stdin.once('data', () => process.stdout.write('{}\\n'))";
const stampPattern = /⏱([0-9.]+)/;
const atPattern = /"at":"([^"]+)"/;

export async function agent(ctx: BenchContext): Promise<void> {
  await startUp(ctx);
  await firstToken(ctx);
}

/** Process start → the answer to `initialize`; a bare Node process answering one line is the floor. */
async function startUp(ctx: BenchContext): Promise<void> {
  const runs = ctx.quick ? 3 : 20;
  const measure = async (args: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"], env: { PATH: process.env.PATH, HOME: "/nonexistent" } });
      child.stdin.write(initialize);
      await new Promise((resolve, reject) => {
        child.stdout.once("data", resolve);
        child.once("exit", (code) => reject(new Error(`the agent exited with ${code} before answering initialize`)));
      });
      times.push(performance.now() - t0);
      child.kill("SIGKILL");
    }
    return times.sort((a, b) => a - b);
  };
  const agentTimes = await measure([agentFile]);
  const floor = await measure(["-e", bareNode]);
  const note = `bare Node answering one line: p50 ${round(percentile(floor, 50), 0)} ms`;
  ctx.record({ scenario: "agent", metric: `process start → ACP initialize answered, p50 of ${runs}`, value: round(percentile(agentTimes, 50), 0), unit: "ms", target: "< 300", note });
  ctx.record({ scenario: "agent", metric: `process start → ACP initialize answered, p95 of ${runs}`, value: round(percentile(agentTimes, 95), 0), unit: "ms" });
}

/**
 * Tokens streamed by the LLM at a steady pace, each timed from the upstream's write to an SSE client: first
 * with the first token 4 ms after the request was answered (racing the turn's set-up), then after a time to
 * first token of 100 ms, as a model takes at least (the set-up is over by then).
 */
async function firstToken(ctx: BenchContext): Promise<void> {
  // 300 turns a series: the p99 of 100 would be the second-worst sample.
  const turns = ctx.quick ? 2 : 300;
  const pieces = ctx.quick ? 5 : 25;
  const llm = await startLlmProcess();
  const server = await startBenchServer({ ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: "bench-key" });
  const abort = new AbortController();
  try {
    const { id } = await server.readySession({ agent: "airlock" });
    /** First tokens: latency, and the upstream's stamp and store time, to split the slow ones by stage. */
    let series = { first: [] as number[], all: [] as number[], firsts: [] as Array<{ latency: number; stamp: string; stored: number }> };
    let turnStarted = false;
    let ended = 0;
    let onEnded = () => {};
    const reading = readSse(`${server.url}/v1/sessions/${id}/events`, {
      signal: abort.signal,
      onFrame: (frame) => {
        const now = performance.timeOrigin + performance.now();
        if (frame.includes("event: turn.started")) turnStarted = true;
        else if (frame.includes("event: turn.ended")) {
          ended++;
          onEnded();
        } else if (frame.includes("agent_message_chunk")) {
          const m = stampPattern.exec(frame);
          if (!m) return;
          const latency = now - Number(m[1]);
          series.all.push(latency);
          if (turnStarted) {
            series.first.push(latency);
            series.firsts.push({ latency, stamp: m[1], stored: Date.parse(atPattern.exec(frame)?.[1] ?? "") });
          }
          turnStarted = false;
        }
      },
    });
    // The token changes process 5 times (upstream → server → agent → sandboxd → server → client): the same
    // handovers between bare processes, at the same pace, are what this machine allows. A line goes through them
    // after every turn, so the floor and the figure see the same spell of the machine (its noise changes by the
    // minute): 4 ms after a line that woke them (racing: the pipeline was busy with the turn's set-up), or after
    // 100 ms of quiet (settled).
    const chain = await startHopChain(5);
    const run = async (firstTokenMs: number) => {
      series = { first: [], all: [], firsts: [] };
      const stolen = stealMeter();
      const cpu0 = sampleTree(server.pid);
      const floorStart = { cpu: chain.cpuSeconds(), sent: chain.sent };
      const floorTimes: number[] = [];
      for (let t = 0; t < turns; t++) {
        llm.reply({ text: "x".repeat(pieces), pieces, delayMs: 4, firstTokenMs, timestamps: true });
        const target = ended + 1;
        const done = new Promise<void>((resolve) => (onEnded = () => ended >= target && resolve()));
        await server.api("POST", `/v1/sessions/${id}/prompt`, { text: `say something (${t})` });
        await done;
        if (firstTokenMs === 0) await chain.lineAfter(0);
        floorTimes.push(await chain.lineAfter(firstTokenMs === 0 ? 4 : firstTokenMs));
      }
      const floor = floorOf(floorTimes, chain, floorStart);
      const { first, all, firsts } = series;
      if (first.length !== turns || all.length !== turns * pieces) throw new Error(`expected ${turns} turns of ${pieces} tokens, got ${first.length} first tokens and ${all.length} in all`);
      const { roles } = cpuBetween(cpu0, sampleTree(server.pid));
      const perTurn = (s: number) => round((s / turns) * 1000, 2);
      const cpu = `CPU per turn: server ${perTurn(roles.server)} ms, relay ${perTurn(roles.relay)} ms, agent ${perTurn(roles.agent)} ms`;
      const slow = slowStages(firsts.filter((f) => f.latency > 5), new Map(journalStamps(server.dataDir, id, "⏱").map((r) => [r.stamp, r.at])));
      return { first: summarize(first), over: first.filter((l) => l > 5).length, all: summarize(all), steal: stolen(), cpu, slow, floor };
    };
    let racing: Awaited<ReturnType<typeof run>>;
    let settled: typeof racing;
    try {
      racing = await run(0);
      settled = await run(100);
    } finally {
      chain.close();
    }
    abort.abort();
    await reading;
    const note = (r: typeof racing) =>
      `p50 ${round(r.first.p50, 2)} ms, max ${round(r.first.max, 2)} ms, ${r.over} of ${turns} over 5 ms${r.slow}; ${r.cpu}; CPU stolen by the hypervisor meanwhile: ${round(r.steal * 100, 1)}%; ` +
      `the machine's floor, between the turns (a line through 5 bare processes at that pace): p50 ${round(r.floor.p50, 2)}, p99 ${round(r.floor.p99, 2)} ms, ${round(r.floor.cpuPerLineMs, 3)} ms of CPU per process and line`;
    ctx.record({ scenario: "agent", metric: `first token of a turn, upstream → SSE client, p99 of ${turns}`, value: round(racing.first.p99, 2), unit: "ms", target: "< 5", note: note(racing) });
    ctx.record({ scenario: "agent", metric: `the same after 100 ms to the first token, p99 of ${turns}`, value: round(settled.first.p99, 2), unit: "ms", target: "< 5", note: note(settled) });
    const a = racing.all;
    ctx.record({ scenario: "agent", metric: `every token (${pieces} per turn, 4 ms apart), p99 of ${a.n}`, value: round(a.p99, 2), unit: "ms", note: `p50 ${round(a.p50, 2)} ms, max ${round(a.max, 2)} ms` });
  } finally {
    abort.abort();
    await server.stop();
    await llm.close();
  }
}

/**
 * Where the slow first tokens lost their time, as medians (the journal and the store keep milliseconds): from the
 * upstream's write until the relay journaled it (gateway, agent, relay), until the server stored it, until the client.
 */
function slowStages(slow: Array<{ latency: number; stamp: string; stored: number }>, journaled: Map<string, number>): string {
  const staged = slow.flatMap((f) => {
    const at = journaled.get(f.stamp);
    const stamp = Number(f.stamp);
    return at === undefined || !Number.isFinite(f.stored) ? [] : [{ toJournal: at - stamp, toStore: f.stored - at, toClient: stamp + f.latency - f.stored }];
  });
  if (staged.length === 0) return "";
  const median = (xs: number[]) => round(percentile([...xs].sort((a, b) => a - b), 50), 1);
  return ` (their median split: ${median(staged.map((s) => s.toJournal))} ms until the relay journaled it, ${median(staged.map((s) => s.toStore))} more until stored, ${median(staged.map((s) => s.toClient))} more until the client)`;
}
