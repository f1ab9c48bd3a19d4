/**
 * The machine's floor for a latency: one line handed through a chain of bare Node processes (each writes what
 * it reads, at once), timed from the benchmark's write to its read of the chain's end. A figure whose path
 * crosses as many processes cannot beat it on this machine; on a shared virtual machine, where waking a process
 * on an idle CPU goes through the hypervisor, it is most of a tail.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { cpuSeconds } from "./cpu.ts";
import { summarize } from "./stats.ts";

export type Floor = ReturnType<typeof summarize> & {
  /**
   * CPU a bare process used per line it passed on (ms): at a slow pace mostly the cost of being woken, which on
   * a virtual machine can be several times the work itself — what any process of a pipeline pays per event.
   */
  cpuPerLineMs: number;
};

const passThrough = "process.stdin.on('data', (d) => process.stdout.write(d))";

/** A chain of `hops` handovers between processes (so `hops - 1` bare children), kept up between measurements. */
export interface HopChain {
  /** Waits `gapMs`, then times one line through the chain (ms). */
  lineAfter(gapMs: number): Promise<number>;
  /** CPU seconds the children have used so far, in all, and the lines sent through them. */
  cpuSeconds(): number;
  readonly sent: number;
  readonly children: number;
  close(): void;
}

export async function startHopChain(hops: number): Promise<HopChain> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < hops - 1; i++) {
    const input = i === 0 ? "pipe" : children[i - 1].stdout!;
    children.push(spawn(process.execPath, ["-e", passThrough], { stdio: [input, "pipe", "inherit"] }));
  }
  const first = children[0].stdin!;
  const last = children[children.length - 1].stdout!;
  const close = () => {
    for (const child of children) child.kill("SIGKILL");
  };
  try {
    // Every child is up once a line has gone through them all.
    await roundTrip(first, last);
  } catch (err) {
    close();
    throw err;
  }
  let sent = 0;
  return {
    async lineAfter(gapMs) {
      await new Promise((r) => setTimeout(r, gapMs));
      sent++;
      return roundTrip(first, last);
    },
    cpuSeconds: () => children.reduce((sum, c) => sum + (cpuSeconds(c.pid!) ?? 0), 0),
    get sent() {
      return sent;
    },
    children: children.length,
    close,
  };
}

/** The floor from lines timed through `chain` since `start` (its CPU seconds and lines sent then). */
export function floorOf(times: number[], chain: HopChain, start: { cpu: number; sent: number }): Floor {
  const lines = Math.max(chain.sent - start.sent, 1);
  return { ...summarize(times), cpuPerLineMs: ((chain.cpuSeconds() - start.cpu) / chain.children / lines) * 1000 };
}

/** `hops` handovers between processes, `lines` lines, each `gapMs` after the last arrived. */
export async function hopFloor(hops: number, lines: number, gapMs: number): Promise<Floor> {
  const chain = await startHopChain(hops);
  try {
    const start = { cpu: chain.cpuSeconds(), sent: chain.sent };
    const times: number[] = [];
    for (let i = 0; i < lines; i++) times.push(await chain.lineAfter(gapMs));
    return floorOf(times, chain, start);
  } finally {
    chain.close();
  }
}

function roundTrip(input: NodeJS.WritableStream, output: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    output.once("data", () => resolve(performance.now() - t0));
    input.write("x\n");
  });
}
