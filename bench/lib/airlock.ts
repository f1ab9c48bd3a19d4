/**
 * Starts an Airlock server for a benchmark (a child process on a temp data folder) and drives it over HTTP.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface BenchServer {
  url: string;
  pid: number;
  dataDir: string;
  rssMb(): number;
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Creates a scripted session and waits until it is ready; returns its id and the time it took (ms). */
  readySession(body?: Record<string, unknown>): Promise<{ id: string; ms: number }>;
  stop(): Promise<void>;
  /** SIGKILL, no clean-up (the data folder stays). */
  kill(): Promise<void>;
}

/** `dataDir`: a folder shared with other nodes (kept by `stop`); otherwise a new one, removed by `stop`. */
export async function startBenchServer(env: Record<string, string> = {}, shared?: { dataDir: string }): Promise<BenchServer> {
  const dataDir = shared?.dataDir ?? mkdtempSync(join(tmpdir(), "airlock-bench-"));
  // BENCH_CPU_PROF=DIR writes a CPU profile of the server there (to find where a figure's time goes).
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // BENCH_SERVER_FLAGS adds node flags (say --trace-gc); BENCH_SERVER_LOG=FILE keeps what the server prints.
  const flags = process.env.BENCH_SERVER_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const proc: ChildProcess = spawn(process.execPath, [...profile, ...flags, "--import", "tsx", join(root, "packages/server/src/main.ts")], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AIRLOCK_DATA_DIR: dataDir, AIRLOCK_PORT: "0", AIRLOCK_LOG_LEVEL: "warn", AIRLOCK_MAX_SESSIONS: "100000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    proc.stdout!.on("data", (c: Buffer) => {
      output += c;
      const m = output.match(/Airlock is running at (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.stderr!.on("data", (c: Buffer) => (output += c));
    if (process.env.BENCH_SERVER_LOG) {
      const log = createWriteStream(process.env.BENCH_SERVER_LOG);
      proc.stdout!.pipe(log);
      proc.stderr!.pipe(log);
    }
    proc.once("exit", (code) => reject(new Error(`server exited ${code}:\n${output}`)));
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    url,
    pid: proc.pid!,
    dataDir,
    rssMb: () => rssMb(proc.pid!),
    api,
    async readySession(body = {}) {
      const t0 = performance.now();
      const s = await api("POST", "/v1/sessions", { agent: "scripted", ...body });
      for (;;) {
        const page = await api("GET", `/v1/sessions/${s.id}`);
        // A session with a short idle timeout may be ready and idle-stopped between two looks.
        if (page.status === "ready" || (page.status === "stopped" && !page.final)) return { id: s.id, ms: performance.now() - t0 };
        if (page.status === "failed") throw new Error(`session failed: ${page.statusReason}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    async stop() {
      // DELETE every session so no sandbox outlives the benchmark.
      let before = "";
      for (;;) {
        const page = await api("GET", `/v1/sessions?limit=200${before ? `&before=${before}` : ""}`).catch(() => ({ sessions: [], nextCursor: null }));
        await Promise.all(page.sessions.map((s: { id: string }) => api("DELETE", `/v1/sessions/${s.id}`).catch(() => {})));
        if (!page.nextCursor) break;
        before = page.nextCursor;
      }
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
      if (!shared) rmSync(dataDir, { recursive: true, force: true });
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGKILL");
      await exited;
    },
  };
}

export function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * The stamped records of a session's journal (read from its relay folder): when the relay journaled each (ms since
 * the epoch) and the stamp it carries, as written. `marker` is the text just before a stamp's digits.
 */
export function journalStamps(dataDir: string, sessionId: string, marker: string): Array<{ at: number; stamp: string }> {
  const found: Array<{ at: number; stamp: string }> = [];
  let text = "";
  try {
    text = readFileSync(join(dataDir, "sandboxes", sessionId, "relay", "journal.ndjson"), "utf8");
  } catch {
    return found;
  }
  const literal = marker.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^\\{"seq":\\d+,"at":(\\d+),.*${literal}([0-9.]+)`, "gm");
  for (let m; (m = pattern.exec(text)); ) found.push({ at: Number(m[1]), stamp: m[2] });
  return found;
}

/**
 * For each chunk of a session's journal: the time from the agent's stamp to the relay's journal record (ms, the
 * relay's clock is the same). Splits a latency into agent → relay and the rest.
 */
export function journalLags(dataDir: string, sessionId: string): number[] {
  return journalStamps(dataDir, sessionId, '"airlockTs":').map((r) => r.at - Number(r.stamp));
}
