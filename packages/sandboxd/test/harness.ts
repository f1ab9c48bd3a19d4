/**
 * Runs the real bundled sandboxd, detached with stdio ignored as the control plane starts it, next to the
 * fixture agent, in a temporary state folder and workspace.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { JournalRecord, SandboxdConfig, SandboxdState } from "@airlock/protocol";
import { SandboxdClient, waitForSandboxd } from "../src/index.ts";

export const fixtureAgent = fileURLToPath(new URL("./fixtures/echo-agent.mjs", import.meta.url));
const buildScript = fileURLToPath(new URL("../build.mjs", import.meta.url));

/** A private build of the bundle (other suites run the shared dist/ copy at the same time). */
export function buildBundle(dir: string): string {
  const out = join(dir, "sandboxd.js");
  execFileSync(process.execPath, [buildScript, "--outfile", out], { stdio: "inherit" });
  return out;
}

/** A process that still runs: a zombie (dead, waiting for init here to reap it) does not count. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

export async function until<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface StartOptions {
  /** Reuse a state folder and workspace (restart). */
  stateDir?: string;
  workspace?: string;
  argv?: string[];
  env?: Record<string, string>;
  tcp?: boolean;
  limits?: SandboxdConfig["limits"];
  cgroupProcs?: string[];
  token?: string;
  wrap?: string[];
  /** The workspace as the agent sees it (default: the host path). */
  sandboxPath?: string;
}

export class Sandbox {
  readonly client: SandboxdClient;
  /** Every record read so far, in seq order. */
  readonly records: JournalRecord[] = [];
  private nextId = 1;

  constructor(
    readonly config: SandboxdConfig,
    readonly state: SandboxdState,
    readonly endpoint: { token: string; socketPath?: string; url?: string },
  ) {
    this.client = new SandboxdClient(endpoint);
  }

  get stateDir(): string {
    return this.config.stateDir;
  }
  get workspace(): string {
    return this.config.workspace.hostPath;
  }

  /** Reads the journal (long-poll) until `match` finds a record. */
  async waitFor<T extends JournalRecord>(what: string, match: (r: JournalRecord) => boolean, timeoutMs = 10_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    let scanned = 0;
    for (;;) {
      for (; scanned < this.records.length; scanned++) if (match(this.records[scanned])) return this.records[scanned] as T;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last records: ${JSON.stringify(this.records.slice(-5))}`);
      const after = this.records.at(-1)?.seq ?? 0;
      const page = await this.client.read(after, 10_000, Math.min(1000, Math.max(1, end - Date.now())));
      this.records.push(...page);
    }
  }

  /** Sends a request to the agent and waits for its answer in the journal. */
  async request(method: string, params: unknown = {}, timeoutMs = 10_000): Promise<any> {
    const id = `t${this.nextId++}`;
    await this.client.send({ jsonrpc: "2.0", id, method, params });
    const record = await this.waitFor<JournalRecord & { kind: "agent" }>(`the answer to ${method}`, (r) => r.kind === "agent" && (r.msg as any).id === id && (r.msg as any).method === undefined, timeoutMs);
    const msg = record.msg as { result?: unknown; error?: { message: string } };
    if (msg.error) throw new Error(`${method}: ${msg.error.message}`);
    return msg.result;
  }

  /** Makes the agent call a client method; returns sandboxd's answer as the agent received it. */
  async agentCalls(method: string, params: unknown): Promise<{ result?: any; error?: { code: number; message: string } }> {
    const { response } = await this.request("call", { method, params });
    return response;
  }

  /** Shuts sandboxd down as the control plane does (shutdown, read, ack the exit) and waits for it to exit. */
  async stop(): Promise<void> {
    await this.client.shutdown().catch(() => {});
    const health = await this.client.health().catch(() => null);
    if (health) await this.client.ack(health.lastSeq).catch(() => {});
    await until("sandboxd to exit", () => !alive(this.state.pid), 5000);
  }

  async readAll(): Promise<JournalRecord[]> {
    const out: JournalRecord[] = [];
    for (;;) {
      const page = await this.client.read(out.at(-1)?.seq ?? 0, 10_000, 0);
      if (page.length === 0) return out;
      out.push(...page);
    }
  }
}

/** Tracks temp folders and processes of a test file; `cleanup()` in afterEach/afterAll. */
export class Lab {
  readonly root = mkdtempSync(join(tmpdir(), "sandboxd-test-"));
  readonly bundle = buildBundle(this.root);
  private pids = new Set<number>();
  private count = 0;

  folder(name: string): string {
    const dir = join(this.root, `${name}-${++this.count}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  async start(options: StartOptions = {}): Promise<Sandbox> {
    const stateDir = options.stateDir ?? this.folder("state");
    const workspace = options.workspace ?? this.folder("workspace");
    const token = options.token ?? `token-${Math.random().toString(36).slice(2)}`;
    const config: SandboxdConfig = {
      token,
      listen: options.tcp ? { host: "127.0.0.1", port: 0 } : { socketPath: join(stateDir, "s.sock") },
      stateDir,
      workspace: { hostPath: workspace, sandboxPath: options.sandboxPath ?? workspace },
      agent: { argv: options.argv ?? [process.execPath, fixtureAgent], env: options.env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin", AGENT_MARK: "1" } },
      wrap: options.wrap ?? [],
      ...(options.cgroupProcs ? { cgroupProcs: options.cgroupProcs } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    };
    const configPath = join(stateDir, "config.json");
    writeFileSync(configPath, JSON.stringify(config));
    const statePath = join(stateDir, "sandboxd.json");
    rmSync(statePath, { force: true });
    const child = spawn(process.execPath, [this.bundle, configPath], { detached: true, stdio: "ignore", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", SANDBOXD_SECRET: "not-for-the-agent" } });
    child.unref();
    this.pids.add(child.pid!);
    const state = await until("sandboxd.json", () => existsSync(statePath) && (JSON.parse(readFileSync(statePath, "utf8")) as SandboxdState));
    if (state.agentPid) this.pids.add(state.agentPid);
    const endpoint = "socketPath" in state.listen ? { token, socketPath: state.listen.socketPath } : { token, url: `http://${state.listen.host}:${state.listen.port}` };
    await waitForSandboxd(endpoint, 5000);
    return new Sandbox(config, state, endpoint);
  }

  /** Remembers a pid to kill at cleanup (a grandchild the test made). */
  track(pid: number): void {
    this.pids.add(pid);
  }

  /** Kills whatever is left (there should be nothing) and returns the pids that were still alive. */
  killLeftovers(): number[] {
    const left = [...this.pids].filter(alive);
    for (const pid of left) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {}
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    this.pids.clear();
    return left;
  }

  cleanup(): void {
    this.killLeftovers();
    rmSync(this.root, { recursive: true, force: true });
  }
}
