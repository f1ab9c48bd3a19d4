/**
 * @module test-support — shared by the local provider's tests: a provider on a temporary data folder, the
 * real wrap a started sandbox uses, and a scan of /proc for the processes a sandbox left behind.
 */
import { type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AgentLaunch, SandboxHandle, SandboxSpec, SandboxdConfig, SandboxProviderV1 } from "@airlock/protocol";
import { sandboxdPath } from "@airlock/sandboxd";
import { alive } from "./host.ts";
import { type LocalProviderOptions, createLocalProvider } from "./index.ts";

export interface TestProvider {
  provider: SandboxProviderV1;
  /** `<base>/data`; `<base>` also holds a `.env` (that must stay hidden as well). */
  dataDir: string;
  base: string;
  cleanup(): void;
}

/** Under /var/tmp, not /tmp: the sandbox's private /tmp would hide a data folder there whatever the binds. */
export function testProvider(options: Partial<LocalProviderOptions> = {}): TestProvider {
  const base = mkdtempSync("/var/tmp/airlock-local-");
  const dataDir = join(base, "data");
  // One relay process per sandbox unless a test asks for the host relay: these tests follow the relay's own pids.
  const provider = createLocalProvider({ dataDir, sandboxdPath, installationId: "inst_test", sharedRelay: false, ...options });
  return { provider, dataDir, base, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export const newId = () => `ses_test_${randomBytes(6).toString("hex")}`;

export function spec(id: string, extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return { sessionId: id, labels: { "airlock.installation": "inst_test", "airlock.session": id }, network: false, ...extra };
}

/** An agent that stays up until its input ends, answering each line. */
export const echoAgent: AgentLaunch = {
  argv: ["node", "-e", "require('readline').createInterface({ input: process.stdin }).on('line', (l) => console.log(JSON.stringify({ jsonrpc: '2.0', method: 'echo', params: { l } })))"],
  env: {},
};

/** The sandboxd config the provider wrote for a started sandbox. */
export function configOf(handle: SandboxHandle): SandboxdConfig {
  return JSON.parse(readFileSync(join(handle.ref.data.dir as string, "relay", "config.json"), "utf8"));
}

/**
 * The relay's config file keeps no variable's value once the relay runs (forgetEnv blanks the wrap's `--setenv`
 * values): to run a command the way the relay does, the sandbox's standard variables are put back.
 */
export function runnableWrap(config: SandboxdConfig, values: Record<string, string> = {}): string[] {
  const standard: Record<string, string> = { PATH: [dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":"), HOME: "/home/agent", USER: "agent", LOGNAME: "agent", LANG: "C.UTF-8", TMPDIR: "/tmp", PWD: "/workspace", ...values };
  return config.wrap.map((arg, i) => (i >= 2 && config.wrap[i - 2] === "--setenv" && arg === "" ? (standard[config.wrap[i - 1]] ?? "") : arg));
}

/** The sandbox's wrap with bwrap's options read back from their file (`--args 9`, see args-file.ts). */
export function wrapOptions(config: SandboxdConfig): string[] {
  const at = config.wrap.indexOf("airlock-bwrap");
  const file = readFileSync(config.wrap[at + 1], "utf8").split("\0").slice(0, -1);
  return [...config.wrap.slice(0, at + 2), ...file, ...config.wrap.slice(at + 2)];
}

/** Runs a command the way sandboxd runs `terminal/create` commands: the sandbox's wrap, the agent's env. */
export function runInside(config: SandboxdConfig, argv: string[], timeoutMs = 20_000, values: Record<string, string> = {}): SpawnSyncReturns<string> {
  const full = [...runnableWrap(config, values), ...argv];
  return spawnSync(full[0], full.slice(1), { env: { PATH: "/usr/bin:/bin", ...config.agent.env }, encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL" });
}

/** The same without blocking this process (which may be serving what the command connects to). */
export function runInsideAsync(config: SandboxdConfig, argv: string[], timeoutMs = 20_000): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const full = [...runnableWrap(config), ...argv];
  return new Promise((resolve, reject) => {
    const proc = spawn(full[0], full.slice(1), { env: { PATH: "/usr/bin:/bin", ...config.agent.env }, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
    let stdout = "";
    let stderr = "";
    proc.stdout!.on("data", (c: Buffer) => (stdout += c));
    proc.stderr!.on("data", (c: Buffer) => (stderr += c));
    proc.on("error", reject);
    proc.on("close", (status) => resolve({ stdout, stderr, status }));
  });
}

export const node = (script: string) => ["node", "-e", script];

/**
 * Live processes whose command line contains `marker` (a sandbox's id is in all of its processes'), and
 * starts with `program` when given.
 */
export function processesWith(marker: string, program = ""): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const line = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (line.includes(marker) && line.startsWith(program) && alive(pid)) pids.push(pid);
    } catch {}
  }
  return pids;
}

/** A process and all its live descendants. */
export function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const p = Number(name);
    if (!Number.isInteger(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), p]);
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    if (!alive(p)) return;
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

export async function waitUntil(check: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
