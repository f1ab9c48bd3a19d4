/**
 * @module sandboxd — starting, finding and stopping a local sandbox's relay. It runs detached on the host
 * (outside the agent's mounts, so the agent cannot touch its journal) with its state in `relay/`:
 * `config.json` (written here), `sandboxd.json` (written by sandboxd once it listens), `sandboxd.sock`,
 * `journal.ndjson`, `sandboxd.log`. The relay is a session of the shared host relay (host-relay.ts), or a
 * process of its own.
 *
 * A pid read from `sandboxd.json` is only ever signalled after its command line shows it is this sandbox's
 * (a pid recycled after a reboot must not be killed); a host relay's pid is never signalled for one sandbox.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AirlockError, type SandboxdConfig, type SandboxdEndpoint, type SandboxdState } from "@airlock/protocol";
import { SandboxdClient, waitForSandboxd } from "@airlock/sandboxd";
import { alive, cmdline, kill } from "./host.ts";
import type { HostRelay } from "./host-relay.ts";

export const startTimeoutMs = 10_000;

export interface Relay {
  /** The relay's folder (`<sandbox>/relay`). */
  dir: string;
  /** A string in the command line of this sandbox's processes (its folder): guards every kill. */
  marker: string;
}

const configPath = (relay: Relay) => join(relay.dir, "config.json");

export function readState(relay: Relay): SandboxdState | null {
  try {
    return JSON.parse(readFileSync(join(relay.dir, "sandboxd.json"), "utf8")) as SandboxdState;
  } catch {
    return null;
  }
}

function readToken(relay: Relay): string | null {
  try {
    return (JSON.parse(readFileSync(configPath(relay), "utf8")) as SandboxdConfig).token;
  } catch {
    return null;
  }
}

export function endpointOf(state: SandboxdState, token: string): SandboxdEndpoint {
  return "socketPath" in state.listen ? { token, socketPath: state.listen.socketPath } : { token, url: `http://${state.listen.host}:${state.listen.port}` };
}

/** The relay's pid when it runs (checked by command line: this sandbox's own, or the host relay), else null. */
function livePid(relay: Relay, state: SandboxdState | null): number | null {
  if (!state || !alive(state.pid)) return null;
  const cmd = cmdline(state.pid);
  return (state.host ? cmd.includes(" --host ") && cmd.includes(state.host) : cmd.includes(configPath(relay))) ? state.pid : null;
}

/** The running relay's endpoint when it answers with this token, else null. */
export async function findRelay(relay: Relay, token: string): Promise<SandboxdEndpoint | null> {
  const state = readState(relay);
  if (livePid(relay, state) === null) return null;
  const endpoint = endpointOf(state!, token);
  try {
    await new SandboxdClient(endpoint).health(3000);
    return endpoint;
  } catch {
    return null;
  }
}

/** The endpoint of a relay already running for this sandbox, with this token and a live agent (a retried start). */
export async function runningRelay(relay: Relay, token: string): Promise<SandboxdEndpoint | null> {
  const state = readState(relay);
  if (livePid(relay, state) === null) return null;
  const endpoint = endpointOf(state!, token);
  const health = await new SandboxdClient(endpoint).health(3000).catch(() => null);
  return health?.agentRunning || health?.preparing ? endpoint : null;
}

/**
 * Once the relay runs (it reads its config only at start), its config file keeps no environment values: the
 * agent's env holds the session's secrets and env values, which the data folder must not hold in clear. The
 * token stays (a restarted server finds the relay with it); a restart of the agent writes a whole config again.
 */
export function forgetEnv(relay: Relay, config: SandboxdConfig): void {
  const wrap = config.wrap.map((arg, i) => (i >= 2 && config.wrap[i - 2] === "--setenv" ? "" : arg));
  writeFileSync(configPath(relay), JSON.stringify({ ...config, agent: { ...config.agent, env: {} }, wrap }), { mode: 0o600 });
}

/**
 * Starts sandboxd with `config` — in the host relay when there is one, else as a process of its own — and
 * resolves once it answers `GET /health`. A relay still winding down for this sandbox (its agent gone) is
 * stopped first; its journal stays and the new one continues it.
 */
export async function startRelay(relay: Relay, sandboxdPath: string, config: SandboxdConfig, signal?: AbortSignal, host?: HostRelay): Promise<SandboxdEndpoint> {
  if (livePid(relay, readState(relay)) !== null) await stopRelay(relay);
  writeFileSync(configPath(relay), JSON.stringify(config), { mode: 0o600 });
  rmSync(join(relay.dir, "sandboxd.json"), { force: true });
  if (host) {
    await host.add(configPath(relay), signal);
    const state = readState(relay);
    if (!state || livePid(relay, state) === null) throw new AirlockError("unavailable", `the sandbox relay did not start in the host relay; its log ends with:\n${logTail(relay)}`);
    const endpoint = endpointOf(state, config.token);
    await waitForSandboxd(endpoint, startTimeoutMs);
    return endpoint;
  }
  const child = spawnRelay(sandboxdPath, [configPath(relay)], relay.dir);
  const until = Date.now() + startTimeoutMs;
  const failed = (why: string) => {
    stopPid(relay, child.pid ?? null, readState(relay)?.agentPid ?? null, false);
    return new AirlockError("unavailable", `the sandbox relay ${why}; its log ends with:\n${logTail(relay)}`);
  };
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    if (signal?.aborted) throw failed("start was cancelled");
    if (child.exitCode !== null || child.signalCode !== null) throw failed(`exited at start (${child.signalCode ?? child.exitCode})`);
    const state = readState(relay);
    if (state && state.pid === child.pid) {
      const endpoint = endpointOf(state, config.token);
      try {
        await waitForSandboxd(endpoint, Math.max(until - Date.now(), 500));
        return endpoint;
      } catch {
        throw failed(`did not answer within ${startTimeoutMs / 1000} s`);
      }
    }
    if (Date.now() > until) throw failed(`did not start within ${startTimeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

/**
 * Starts a sandboxd process: detached in its own session, stdio ignored, none of the server's environment (no
 * secrets). It outlives the server, which re-attaches after a restart.
 */
export function spawnRelay(sandboxdPath: string, args: string[], cwd: string): ChildProcess {
  const child = spawn(process.execPath, [sandboxdPath, ...args], { detached: true, stdio: "ignore", env: { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" }, cwd });
  child.on("error", () => {});
  child.unref();
  return child;
}

/**
 * Stops the relay and its agent: `POST /shutdown` when it answers (the agent gets its end of input, then
 * SIGTERM, then SIGKILL), then SIGKILL for whatever is left of the relay and the agent's process group.
 */
export async function stopRelay(relay: Relay, timeoutMs = 5000): Promise<void> {
  const state = readState(relay);
  if (!state) return;
  const pid = livePid(relay, state);
  const token = readToken(relay);
  if (pid !== null && token) {
    const client = new SandboxdClient(endpointOf(state, token));
    await client.shutdown().catch(() => {});
    // The relay lingers after a shutdown so the exit record can be read; the agent is what must be gone.
    // (In a host relay the process stays; the sandbox's session has ended once its state file is gone.)
    const running = () => alive(pid) && (!state.host || existsSync(join(relay.dir, "sandboxd.json")));
    const until = Date.now() + timeoutMs;
    while (running() && agentAlive(relay, state.agentPid) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    // Nobody reads the exit record through this relay any more (a new one continues the journal): acknowledge
    // everything, and it ends by itself in a moment.
    await client.ack(Number.MAX_SAFE_INTEGER).catch(() => {});
    const grace = Date.now() + 500;
    while (running() && Date.now() < grace) await new Promise((r) => setTimeout(r, 25));
  }
  stopPid(relay, pid, state.agentPid, Boolean(state.host));
}

function agentAlive(relay: Relay, agentPid: number | null): boolean {
  return agentPid !== null && alive(agentPid) && cmdline(agentPid).includes(relay.marker);
}

function stopPid(relay: Relay, pid: number | null, agentPid: number | null, shared: boolean): void {
  if (pid !== null && !shared && alive(pid) && cmdline(pid).includes(configPath(relay))) kill(pid);
  // The agent leads its own process group (sandboxd spawns it detached): the whole group goes.
  if (agentPid !== null && agentAlive(relay, agentPid)) kill(-agentPid);
}

function logTail(relay: Relay): string {
  try {
    return readFileSync(join(relay.dir, "sandboxd.log"), "utf8").trimEnd().split("\n").slice(-10).join("\n");
  } catch {
    return "(no log)";
  }
}
