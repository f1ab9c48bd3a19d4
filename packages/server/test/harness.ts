/**
 * Test harness: a real Airlock server in a child process (so it can be SIGKILLed), a temp data folder,
 * and a small SSE reader that checks every event arrives in order, once.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AirlockEvent } from "@airlock/protocol";
import { type TestDatabase, createTestDatabase } from "@airlock/testkit";
import { descendants } from "../src/providers/local/host.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));

/** The stores a test server can run on: the embedded SQLite, or PostgreSQL in a database of its own. */
export const storeKinds = ["sqlite", "postgres"] as const;
export type StoreKind = (typeof storeKinds)[number];

export interface TestServer {
  url: string;
  dataDir: string;
  /** DATABASE_URL when the server runs on PostgreSQL; null on SQLite (in `dataDir`). */
  databaseUrl: string | null;
  proc: ChildProcess;
  /** SIGKILL: no clean-up of any kind. */
  kill(): Promise<void>;
  /** Start again on the same data folder (and port). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  api<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  log(): string;
}

/**
 * Starts a server in a child process. With `store: "postgres"` it gets a new database, dropped by `stop()`
 * (`kill()` and `restart()` keep it).
 */
export async function startServer(env: Record<string, string> = {}, dataDir?: string, options: { store?: StoreKind } = {}): Promise<TestServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "airlock-test-"));
  const database: TestDatabase | null = options.store === "postgres" ? await createTestDatabase("server") : null;
  if (database) env = { DATABASE_URL: database.url, ...env };
  let output = "";
  let port = env.AIRLOCK_PORT ?? "0";
  // kill(), restart() and stop() end the process on purpose; any other exit is a crash worth seeing in the test output.
  let ending = false;
  const launch = async (): Promise<{ proc: ChildProcess; url: string }> => {
    const proc = spawn(process.execPath, ["--import", "tsx", join(root, "packages/server/src/main.ts")], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AIRLOCK_DATA_DIR: dir, AIRLOCK_PORT: port, AIRLOCK_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Only this launch's output counts: after a restart the previous banner is still in `output`.
    const from = output.length;
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = output.slice(from).match(/Airlock is running at (http:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", (c: Buffer) => (output += c.toString()));
      proc.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${output}`));
        if (!ending) process.stderr.write(`\n[test server ${dir}] exited unexpectedly (code ${code}, signal ${signal}); its last output:\n${output.slice(-8000)}\n`);
      });
    });
    ending = false;
    port = new URL(url).port;
    return { proc, url };
  };
  let current = await launch().catch(async (err) => {
    await database?.drop();
    throw err;
  });
  // Entries are `tenant:key` or a plain key (the tenant is what comes before the first ':').
  const firstKey = env.AIRLOCK_API_KEYS?.split(",")[0].replace(/^[^:]*:/, "");
  const adminAuth: Record<string, string> = firstKey ? { authorization: `Bearer ${firstKey}` } : {};
  const server: TestServer = {
    url: current.url,
    dataDir: dir,
    databaseUrl: env.DATABASE_URL ?? null,
    proc: current.proc,
    async kill() {
      ending = true;
      const exited = new Promise((r) => current.proc.once("exit", r));
      current.proc.kill("SIGKILL");
      await exited;
    },
    async restart() {
      current = await launch();
      server.proc = current.proc;
      server.url = current.url;
    },
    async stop() {
      // Sandboxes outlive the server by design: delete every session so no relay or agent is left running.
      if (current.proc.exitCode === null) {
        let before = "";
        for (;;) {
          const page = await server.api("GET", `/v1/sessions?limit=200${before ? `&before=${before}` : ""}`, undefined, adminAuth).catch(() => null);
          if (!page || page.status !== 200) break;
          await Promise.all(page.body.sessions.map((s: { id: string }) => server.api("DELETE", `/v1/sessions/${s.id}`, undefined, adminAuth).catch(() => {})));
          if (!page.body.nextCursor) break;
          before = page.body.nextCursor;
        }
      }
      ending = true;
      if (current.proc.exitCode === null) {
        const exited = new Promise((r) => current.proc.once("exit", r));
        current.proc.kill("SIGTERM");
        await exited;
      }
      await database?.drop();
    },
    async api(method, path, body, headers = {}) {
      const res = await fetch(server.url + path, {
        method,
        headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: any = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: res.status, body: parsed };
    },
    log: () => output,
  };
  return server;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Reads a session's SSE stream, asserting seq order as it goes. */
export class SseReader {
  readonly events: AirlockEvent[] = [];
  private readonly abort = new AbortController();
  private waiters: Array<() => void> = [];
  done: Promise<void>;
  error: unknown = null;

  constructor(url: string, after?: number, headers: Record<string, string> = {}) {
    this.done = this.run(url, after, headers);
  }

  private async run(url: string, after: number | undefined, headers: Record<string, string>) {
    try {
      const res = await fetch(url, {
        headers: { accept: "text/event-stream", ...(after !== undefined ? { "last-event-id": String(after) } : {}), ...headers },
        signal: this.abort.signal,
      });
      if (res.status !== 200) throw new Error(`SSE status ${res.status}: ${await res.text()}`);
      const decoder = new TextDecoder();
      let buffer = "";
      let last = after ?? 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let idx: number;
        while ((idx = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, idx);
          buffer = buffer.slice(idx + 2);
          const data = frame.split("\n").find((l) => l.startsWith("data: "));
          const id = frame.split("\n").find((l) => l.startsWith("id: "));
          if (!data) continue;
          const event = JSON.parse(data.slice(6)) as AirlockEvent;
          if (event.seq !== last + 1) throw new Error(`SSE out of order: got seq ${event.seq} after ${last}`);
          if (id !== `id: ${event.seq}`) throw new Error(`SSE id line ${id} does not match seq ${event.seq}`);
          last = event.seq;
          this.events.push(event);
        }
        this.wake();
      }
    } catch (err) {
      if (!this.abort.signal.aborted) this.error = err;
    } finally {
      this.wake();
    }
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `predicate` holds over the events received so far. */
  async waitFor(predicate: (events: AirlockEvent[]) => boolean, timeoutMs = 20_000, what = "condition"): Promise<AirlockEvent[]> {
    const until = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (this.error) throw this.error;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; got: ${this.events.map((e) => `${e.seq}:${e.type}${e.type === "session.status" ? `(${(e.data as any).status})` : ""}`).join(" ")}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.events;
  }

  close() {
    this.abort.abort();
  }
}

export const statusOf = (e: AirlockEvent) => (e.type === "session.status" ? e.data.status : null);
export const hasStatus = (status: string) => (events: AirlockEvent[]) => events.some((e) => statusOf(e) === status);
export const turnEnded = (turnId: string) => (events: AirlockEvent[]) => events.some((e) => e.type === "turn.ended" && e.data.turnId === turnId);
export const textOf = (events: AirlockEvent[], turnId?: string) =>
  events
    .filter((e) => e.type === "update" && (!turnId || e.turnId === turnId) && e.data.sessionUpdate === "agent_message_chunk")
    .map((e) => ((e.data as any).content?.text as string) ?? "")
    .join("");

/** Lists live pids whose command line contains `needle`. */
export function pidsMatching(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(needle)) out.push(Number(name));
    } catch {}
  }
  return out;
}


/** The processes of a local session's agent whose command line includes `needle` (below the relay's agent process). */
export function agentProcesses(dataDir: string, sessionId: string, needle: string): number[] {
  const state = JSON.parse(readFileSync(join(dataDir, "sandboxes", sessionId, "relay", "sandboxd.json"), "utf8")) as { agentPid: number };
  return [state.agentPid, ...descendants(state.agentPid)].filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").includes(needle);
    } catch {
      return false;
    }
  });
}

/**
 * The environment a local session's agent runs with, from its processes (the relay's config file keeps no
 * environment once the agent runs: it holds the session's secrets). bwrap itself runs with an empty environment
 * (its options come from a file), so the first process below it is read.
 */
export function agentEnvironment(dataDir: string, sessionId: string): Record<string, string> {
  const state = JSON.parse(readFileSync(join(dataDir, "sandboxes", sessionId, "relay", "sandboxd.json"), "utf8")) as { agentPid: number };
  const pid = [state.agentPid, ...descendants(state.agentPid)].find((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim() !== "bwrap";
    } catch {
      return false;
    }
  });
  const entries = readFileSync(`/proc/${pid ?? state.agentPid}/environ`, "utf8").split("\0").filter(Boolean);
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/** Every file under `dir`, read as bytes: does any hold `needle`? (the SQLite file, its WAL, journals, relay files) */
export function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) {
        try {
          if (readFileSync(path).includes(needle)) found.push(path);
        } catch {}
      }
    }
  };
  walk(dir);
  return found;
}
