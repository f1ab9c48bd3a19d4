/**
 * Many SSE clients spread over child processes, as independent clients would be: a hundred readers in one
 * process would make that process's event loop, not the server, set the tail of a latency figure.
 *
 * `node --import tsx bench/lib/sse-clients.ts` is the child: it opens the readers it is told to, says when
 * every one is connected, and sends their stats once each has seen the end of the turn.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type SseStats, readSse } from "./sse.ts";

interface Job {
  url: string;
  count: number;
  latency: boolean;
  /** Each client stops at the first frame containing this. */
  until: string;
}

export interface SpreadClients {
  /** Resolves with every client's stats once all have seen `until`. */
  done: Promise<SseStats[]>;
  /** CPU seconds the client processes used (known once `done` resolves). */
  cpuSeconds(): number;
}

/** Opens `count` SSE clients of `url` in `processes` child processes; resolves once all are connected. */
export async function spreadClients(url: string, count: number, processes: number, options: { latency: boolean; until: string }): Promise<SpreadClients> {
  const file = fileURLToPath(import.meta.url);
  let cpu = 0;
  const n = Math.min(processes, count);
  const children = Array.from({ length: n }, (_, i) => {
    const share = Math.floor(count / n) + (i < count % n ? 1 : 0);
    const child = fork(file, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const ready = new Promise<void>((resolve, reject) => {
      child.once("message", (m: { ready?: boolean }) => (m.ready ? resolve() : reject(new Error("client process did not connect"))));
      child.once("exit", (code) => reject(new Error(`client process exited ${code}`)));
    });
    const stats = new Promise<SseStats[]>((resolve, reject) => {
      child.on("message", (m: { stats?: SseStats[]; cpu?: number; error?: string }) => {
        if (m.error) reject(new Error(m.error));
        if (m.stats) {
          cpu += m.cpu ?? 0;
          resolve(m.stats);
          child.disconnect();
        }
      });
    });
    child.send({ url, count: share, latency: options.latency, until: options.until } satisfies Job);
    return { ready, stats };
  });
  await Promise.all(children.map((c) => c.ready));
  return { done: Promise.all(children.map((c) => c.stats)).then((all) => all.flat()), cpuSeconds: () => cpu };
}

// The child.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once("message", async (job: Job) => {
    try {
      const cpu0 = process.cpuUsage();
      let connected = 0;
      const readers = Array.from({ length: job.count }, () =>
        readSse(job.url, {
          latency: job.latency,
          onConnect: () => ++connected === job.count && process.send!({ ready: true }),
          onFrame: (f) => f.includes(job.until),
        }),
      );
      const stats = await Promise.all(readers);
      const cpu = process.cpuUsage(cpu0);
      process.send!({ stats, cpu: (cpu.user + cpu.system) / 1e6 }, () => process.exit(0));
    } catch (err) {
      process.send!({ error: (err as Error).message }, () => process.exit(1));
    }
  });
}
