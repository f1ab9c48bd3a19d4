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

/** `hops` handovers between processes (so `hops - 1` children), `lines` lines, each `gapMs` after the last arrived. */
export async function hopFloor(hops: number, lines: number, gapMs: number): Promise<Floor> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < hops - 1; i++) {
    const input = i === 0 ? "pipe" : children[i - 1].stdout!;
    children.push(spawn(process.execPath, ["-e", passThrough], { stdio: [input, "pipe", "inherit"] }));
  }
  const first = children[0].stdin!;
  const last = children[children.length - 1].stdout!;
  try {
    // Every child is up once a line has gone through them all.
    await roundTrip(first, last);
    const cpu = () => children.reduce((sum, c) => sum + (cpuSeconds(c.pid!) ?? 0), 0);
    const cpu0 = cpu();
    const times: number[] = [];
    for (let i = 0; i < lines; i++) {
      await new Promise((r) => setTimeout(r, gapMs));
      times.push(await roundTrip(first, last));
    }
    return { ...summarize(times), cpuPerLineMs: ((cpu() - cpu0) / children.length / lines) * 1000 };
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
}

function roundTrip(input: NodeJS.WritableStream, output: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    output.once("data", () => resolve(performance.now() - t0));
    input.write("x\n");
  });
}
