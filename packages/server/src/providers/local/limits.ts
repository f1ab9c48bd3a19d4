/**
 * @module limits — resource limits for a sandbox: cgroups (`airlock/<sessionId>`, v1 or v2) where this process
 * may write them, for memory and the number of processes; prlimit for what cgroups do not cover (open files,
 * file size, CPU seconds when asked), and for the process count when there are no cgroups.
 * Never an address-space limit (`prlimit --as`): it crashes Node at start.
 *
 * Where the CPU controller can be used too, every sandbox's group sits under one `airlock/` group of default
 * weight: under contention all sandboxes together get as much CPU as one other group of the host, such as the
 * control plane's. Without it each agent, in a session of its own, is an autogroup of its own and weighs as much
 * as the control plane: 50 busy agents left the server and the relay 1/26 of the CPU, and events waited for
 * them (the first second of 50 turns starting at once: p99 50 ms against 5 ms later on).
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { kill } from "./host.ts";

export interface Limits {
  memoryMb: number;
  pids: number;
  fileSizeMb: number;
  openFiles: number;
  /** CPU seconds per process; none by default (an agent may run for hours). */
  cpuSeconds?: number;
  /** Disk for the workspace and home together, measured by the relay (see disk.ts in sandboxd); absent in older sandboxes. */
  diskMb?: number;
}

export const defaultLimits: Limits = { memoryMb: 2048, pids: 512, fileSizeMb: 1024, openFiles: 8192, diskMb: 10 * 1024 };

export const cgroupRoot = "/sys/fs/cgroup";

type Version = "v1" | "v2";

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Which cgroup hierarchy this process can make groups in, if any. */
export function cgroupVersion(root = cgroupRoot): Version | null {
  if (existsSync(join(root, "memory", "memory.limit_in_bytes")) || existsSync(join(root, "memory", "cgroup.procs"))) {
    return writable(join(root, "memory")) && writable(join(root, "pids")) ? "v1" : null;
  }
  if (existsSync(join(root, "cgroup.controllers"))) return writable(root) ? "v2" : null;
  return null;
}

/** v1's CPU hierarchy, when this process can make groups in it. */
function cpuHierarchy(root: string): string | null {
  const dir = join(root, "cpu");
  return existsSync(join(dir, "cpu.shares")) && writable(dir) ? dir : null;
}

/** The session's cgroup folders (whether or not they exist). */
export function cgroupDirs(sessionId: string, version: Version | null = cgroupVersion(), root = cgroupRoot): string[] {
  if (version === "v1") {
    const cpu = cpuHierarchy(root);
    return [join(root, "memory", "airlock", sessionId), join(root, "pids", "airlock", sessionId), ...(cpu ? [join(cpu, "airlock", sessionId)] : [])];
  }
  if (version === "v2") return [join(root, "airlock", sessionId)];
  return [];
}

/**
 * Creates the session's cgroups with their limits and returns their `cgroup.procs` files; empty when cgroups
 * cannot be used here (prlimit then covers what it can). Safe to call again (a resumed session).
 */
export function createCgroups(sessionId: string, limits: Limits, root = cgroupRoot): string[] {
  const version = cgroupVersion(root);
  if (!version) return [];
  const bytes = String(limits.memoryMb * 1024 * 1024);
  // An empty group left from an earlier start is made anew: its fresh mtime keeps a sweep (see below) from
  // removing it between here and the moment the agent joins it.
  for (const dir of cgroupDirs(sessionId, version, root)) {
    try {
      rmdirSync(dir);
    } catch {}
  }
  try {
    if (version === "v1") {
      const [memory, pids, cpu] = cgroupDirs(sessionId, version, root);
      mkdirSync(memory, { recursive: true });
      mkdirSync(pids, { recursive: true });
      writeFileSync(join(memory, "memory.limit_in_bytes"), bytes);
      // Without this, swap would let the sandbox go past its memory limit (absent when swap accounting is off).
      tryWrite(join(memory, "memory.memsw.limit_in_bytes"), bytes);
      writeFileSync(join(pids, "pids.max"), String(limits.pids));
      if (cpu) mkdirSync(cpu, { recursive: true });
      return [join(memory, "cgroup.procs"), join(pids, "cgroup.procs"), ...(cpu ? [join(cpu, "cgroup.procs")] : [])];
    }
    // v2: controllers must be enabled on the way down; "no internal processes" is kept since airlock/ holds none.
    // The CPU controller is asked for on its own: the kernel refuses it in some setups (realtime threads in a
    // group), and the limits must not go with it.
    tryWrite(join(root, "cgroup.subtree_control"), "+memory +pids");
    tryWrite(join(root, "cgroup.subtree_control"), "+cpu");
    mkdirSync(join(root, "airlock"), { recursive: true });
    writeFileSync(join(root, "airlock", "cgroup.subtree_control"), "+memory +pids");
    tryWrite(join(root, "airlock", "cgroup.subtree_control"), "+cpu");
    const [dir] = cgroupDirs(sessionId, version, root);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "memory.max"), bytes);
    tryWrite(join(dir, "memory.swap.max"), "0");
    writeFileSync(join(dir, "pids.max"), String(limits.pids));
    return [join(dir, "cgroup.procs")];
  } catch {
    // Half made (a controller missing, a read-only file): leave nothing behind, prlimit covers what it can.
    for (const dir of cgroupDirs(sessionId, version, root)) {
      try {
        rmdirSync(dir);
      } catch {}
    }
    return [];
  }
}

function tryWrite(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {}
}

/** The pids in the session's cgroups. */
export function cgroupPids(sessionId: string, root = cgroupRoot): number[] {
  const pids = new Set<number>();
  for (const dir of cgroupDirs(sessionId, cgroupVersion(root), root)) {
    try {
      for (const line of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")) if (line) pids.add(Number(line));
    } catch {}
  }
  return [...pids];
}

/**
 * Kills whatever still runs in the session's cgroups and removes them. A cgroup cannot be removed while a
 * dying process is in it, so this waits (up to `timeoutMs`) for them to go. Returns false if some remain.
 */
export async function removeCgroups(sessionId: string, root = cgroupRoot, timeoutMs = 3000): Promise<boolean> {
  const dirs = cgroupDirs(sessionId, cgroupVersion(root), root).filter((d) => existsSync(d));
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const dir of dirs) {
      if (!existsSync(dir)) continue;
      // v2 kills the whole group at once; v1 one pid at a time (and again, for any forked meanwhile).
      tryWrite(join(dir, "cgroup.kill"), "1");
      try {
        for (const line of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n")) if (line) kill(Number(line));
      } catch {}
      try {
        rmdirSync(dir);
      } catch {}
    }
    if (dirs.every((d) => !existsSync(d))) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Removes empty session cgroups older than `minAgeMs` that no sandbox uses any more (a crash, a data folder
 * deleted by hand). A running sandbox always has its agent in them; an idle one gets them again on resume.
 */
export function sweepCgroups(keep: (sessionId: string) => boolean, root = cgroupRoot, minAgeMs = 60_000): void {
  const version = cgroupVersion(root);
  const cpu = cpuHierarchy(root);
  const parents = version === "v1" ? [join(root, "memory", "airlock"), join(root, "pids", "airlock"), ...(cpu ? [join(cpu, "airlock")] : [])] : version === "v2" ? [join(root, "airlock")] : [];
  for (const parent of parents) {
    let names: string[];
    try {
      names = readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      continue;
    }
    for (const name of names) {
      if (keep(name)) continue;
      const dir = join(parent, name);
      try {
        if (Date.now() - statSync(dir).mtimeMs < minAgeMs) continue;
        if (readFileSync(join(dir, "cgroup.procs"), "utf8").trim() !== "") continue;
        rmdirSync(dir);
      } catch {}
    }
  }
}

/**
 * The argv prefix that applies the limits before bubblewrap starts. It joins the cgroups itself (so every
 * process of the sandbox, the agent's and each `terminal/*` command's, is inside from its first instruction,
 * and nothing it forks escapes) and sets the prlimit limits. A cgroup that cannot be joined stops the start:
 * better no agent than an agent without its limits.
 */
export function limitPrefix(cgroupProcs: string[], limits: Limits, prlimit: string | null): string[] {
  const join = cgroupProcs.length
    ? ["/bin/sh", "-c", 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"', "airlock-limits", String(cgroupProcs.length), ...cgroupProcs]
    : [];
  if (!prlimit) return join;
  const flags = [`--nofile=${limits.openFiles}`, `--fsize=${limits.fileSizeMb * 1024 * 1024}`];
  if (limits.cpuSeconds) flags.push(`--cpu=${limits.cpuSeconds}`);
  // Without cgroups, RLIMIT_NPROC is the only bound on forks (it counts the user's processes; root is exempt).
  if (!cgroupProcs.length) flags.push(`--nproc=${limits.pids}`);
  return [...join, prlimit, ...flags, "--"];
}
