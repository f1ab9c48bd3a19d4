/**
 * CPU time of a process tree by role, read from /proc: tells which process of the pipeline a scenario's time
 * goes to. Sampled before and after a run; processes alive at both points count fully, ones that started in
 * between count from zero.
 *
 * CPU time is the scheduler's own count (schedstat, nanoseconds, summed over a process's threads), not
 * utime + stime: those are sampled at the 100 Hz tick, and a process that wakes in step with the tick (an
 * agent emitting every 10 ms) is charged whole ticks it did not use.
 */
import { readFileSync, readdirSync } from "node:fs";

const ticksPerSecond = 100; // USER_HZ on Linux

export type Role = "server" | "relay" | "agent" | "sandbox" | "sandbox-agent" | "other";

export interface CpuSample {
  /** pid → [role, seconds of CPU, seconds its main thread waited for a CPU while runnable]. */
  byPid: Map<number, [Role, number, number]>;
  /** When the sample was taken (ms). */
  at: number;
}

function stat(pid: number): { ppid: number; ticks: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** CPU seconds a process has used, all its threads, from schedstat; null where the kernel has none. */
export function cpuSeconds(pid: number): number | null {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    return ns / 1e9;
  } catch {
    return null;
  }
}

/** Seconds the main thread (a Node process's event loop) spent runnable but waiting for a CPU. */
function runDelay(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e9;
  } catch {
    return 0;
  }
}

function commandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return null;
  }
}

/** Which part of a session's pipeline a command line is; null for none of them. */
function pipelineRole(cmd: string): Exclude<Role, "server" | "other"> | null {
  const argv0 = cmd.slice(0, cmd.indexOf("\0") >>> 0);
  if (argv0.endsWith("bwrap")) return "sandbox";
  if (argv0.endsWith("/sandbox-agent")) return "sandbox-agent";
  if (cmd.includes("sandboxd")) return "relay";
  if (cmd.includes("scripted-agent") || cmd.includes("airlock-agent")) return "agent";
  return null;
}

function roleOf(pid: number, root: number): Role {
  if (pid === root) return "server";
  return pipelineRole(commandLine(pid) ?? "") ?? "other";
}

/** CPU seconds of `root` and all its descendants, by pid. */
export function sampleTree(root: number): CpuSample {
  const parents = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (!s) continue;
    parents.set(pid, s.ppid);
    ticks.set(pid, s.ticks);
  }
  const byPid = new Map<number, [Role, number, number]>();
  for (const [pid, t] of ticks) {
    let p: number | undefined = pid;
    for (let depth = 0; p !== undefined && p > 1 && depth < 32; depth++) {
      if (p === root) {
        // schedstat only for the tree's processes: every thread of every process on the machine is many reads.
        byPid.set(pid, [roleOf(pid, root), cpuSeconds(pid) ?? t / ticksPerSecond, runDelay(pid)]);
        break;
      }
      p = parents.get(p);
    }
  }
  return { byPid, at: performance.now() };
}

export interface CpuUse {
  wall: number;
  /** CPU seconds per role. */
  roles: Record<Role, number>;
  /** Seconds the server's event loop was runnable but had no CPU (the machine was oversubscribed). */
  serverWaited: number;
}

/** CPU seconds spent per role between two samples, plus the wall-clock seconds between them. */
export function cpuBetween(before: CpuSample, after: CpuSample): CpuUse {
  const roles: Record<Role, number> = { server: 0, relay: 0, agent: 0, sandbox: 0, "sandbox-agent": 0, other: 0 };
  let serverWaited = 0;
  for (const [pid, [role, secs, waited]] of after.byPid) {
    const earlier = before.byPid.get(pid);
    roles[role] += secs - (earlier?.[1] ?? 0);
    if (role === "server") serverWaited = waited - (earlier?.[2] ?? 0);
  }
  return { wall: (after.at - before.at) / 1000, roles, serverWaited };
}

/**
 * "CPU cores: server 0.82, relays 0.41, agents 0.30, clients 0.20; ..." — CPU as cores busy over the run.
 * `rootName` names the root process (the server, or the benchmark itself when it is the root).
 */
export function describeCpu(used: CpuUse, clientSeconds?: number, rootName = "server"): string {
  const cores = (s: number) => (used.wall > 0 ? Math.round((s / used.wall) * 100) / 100 : 0);
  const named: Array<[string, number]> = [
    [rootName, used.roles.server],
    ["sandbox-agent", used.roles["sandbox-agent"]],
    ["relays", used.roles.relay],
    ["agents", used.roles.agent],
    ["other", used.roles.sandbox + used.roles.other],
  ];
  const parts = named.filter(([name, s]) => name === rootName || name === "agents" || s > 0.01 * used.wall).map(([name, s]) => `${name} ${cores(s)}`);
  if (clientSeconds !== undefined) parts.push(`clients ${cores(clientSeconds)}`);
  const waited = rootName === "server" ? `; server loop waited for a CPU ${Math.round((100 * used.serverWaited) / used.wall)}% of the time` : "";
  return `CPU cores: ${parts.join(", ")}${waited}`;
}

/**
 * The machine's CPU time stolen by its hypervisor (the `steal` column of /proc/stat) between two calls, as a
 * share of all CPU time: on a shared virtual machine a stolen slice stalls whatever ran on that CPU, and no
 * code of ours can make up for it. Read beside a latency tail.
 */
export function stealMeter(): () => number {
  const read = () => {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return { steal: fields[7] ?? 0, total: fields.reduce((a, b) => a + b, 0) };
  };
  const start = read();
  return () => {
    const end = read();
    return end.total > start.total ? (end.steal - start.steal) / (end.total - start.total) : 0;
  };
}

/**
 * CPU seconds of every process on the machine, by what it is: Airlock servers, relays, agents, PostgreSQL, this
 * benchmark, the rest. For several nodes, whose relays and agents do not all descend from one process.
 */
export function sampleMachine(): Map<number, [MachineRole, number]> {
  const out = new Map<number, [MachineRole, number]>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const cmd = commandLine(pid);
    if (cmd === null) continue;
    const role = machineRoleOf(pid, cmd);
    const secs = cpuSeconds(pid);
    if (secs !== null) out.set(pid, [role, secs]);
  }
  return out;
}

export type MachineRole = "servers" | "relays" | "agents" | "postgres" | "benchmark" | "other";

function machineRoleOf(pid: number, cmd: string): MachineRole {
  if (pid === process.pid) return "benchmark";
  if (cmd.includes("packages/server/src/main.ts")) return "servers";
  if (cmd.startsWith("postgres") || cmd.includes("/postgres\0") || cmd.includes("/postgresql/")) return "postgres";
  const role = pipelineRole(cmd);
  return role === "relay" ? "relays" : role === "agent" ? "agents" : "other";
}

/** "CPU cores: servers 0.9, relays 0.3, …" between two machine samples `wallS` seconds apart. */
export function describeMachineCpu(before: Map<number, [MachineRole, number]>, after: Map<number, [MachineRole, number]>, wallS: number): string {
  const sums: Record<MachineRole, number> = { servers: 0, relays: 0, agents: 0, postgres: 0, benchmark: 0, other: 0 };
  for (const [pid, [role, secs]] of after) sums[role] += secs - (before.get(pid)?.[1] ?? 0);
  const parts = (Object.keys(sums) as MachineRole[]).map((r) => `${r} ${Math.round((sums[r] / wallS) * 100) / 100}`);
  return `CPU cores: ${parts.join(", ")}`;
}
