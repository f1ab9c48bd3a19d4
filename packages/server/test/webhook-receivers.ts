/**
 * Webhook receivers for tests: one as a real process (killed and restarted mid-stream), one in this process
 * (to look at every request as it came).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./fixtures/webhook-receiver.mjs", import.meta.url));

export interface ReceivedEvent {
  s: string;
  q: number;
  t: string;
  d: string;
}

/** The receiver process; `out` keeps what every incarnation of it accepted. */
export class ReceiverProcess {
  private proc: ChildProcess | null = null;
  port = 0;
  constructor(
    readonly out: string,
    readonly secret: () => string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Resolves when the current process has exited (killed, or by CRASH_AFTER). */
  exited: Promise<unknown> = Promise.resolve();

  async start(env: { FAIL_FIRST?: number; SLOW_MS?: number; CRASH_AFTER?: number } = {}): Promise<void> {
    const proc = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH, PORT: String(this.port), OUT: this.out, SECRET: this.secret(), FAIL_FIRST: String(env.FAIL_FIRST ?? 0), SLOW_MS: String(env.SLOW_MS ?? 0), CRASH_AFTER: String(env.CRASH_AFTER ?? 0) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    this.proc = proc;
    this.exited = new Promise((r) => proc.once("exit", r));
    this.port = await new Promise<number>((resolve, reject) => {
      let text = "";
      proc.stdout!.on("data", (c: Buffer) => {
        const m = (text += c.toString()).match(/listening (\d+)/);
        if (m) resolve(Number(m[1]));
      });
      proc.once("exit", (code) => reject(new Error(`receiver exited with ${code}`)));
    });
  }

  /** SIGKILL: whatever it was answering gets no answer. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await exited;
    this.proc = null;
  }

  events(): ReceivedEvent[] {
    if (!existsSync(this.out)) return [];
    return readFileSync(this.out, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  }
}

export interface CapturedRequest {
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

/** An in-process receiver; `answer` decides each status (default 200). */
export async function startCapture(answer: (req: CapturedRequest) => number = () => 200) {
  const requests: CapturedRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r: CapturedRequest = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status: 0 };
    r.status = answer(r);
    requests.push(r);
    res.writeHead(r.status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    /** Events of the accepted (2xx) deliveries, in arrival order. */
    accepted: () =>
      requests
        .filter((r) => r.status < 300)
        .flatMap((r) => (JSON.parse(r.body).events as Array<{ sessionId: string; seq: number; type: string }>)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Keeps the first of each (session, seq), in arrival order. */
export function dedup<T extends { session: string; seq: number }>(events: T[]): T[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    const key = `${e.session}/${e.seq}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
