/**
 * @module limits — resource limits for a sandbox: cgroup files where writable (memory, pids), else prlimit.
 * Never an address-space limit: it crashes Node at start.
 */
import { accessSync, constants, existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Limits {
  memoryMb: number;
  pids: number;
  fileSizeMb: number;
  openFiles: number;
}

export const defaultLimits: Limits = { memoryMb: 2048, pids: 512, fileSizeMb: 1024, openFiles: 8192 };

const cgroupRoot = "/sys/fs/cgroup";

/** Creates the session's cgroups (v1 or v2) and returns their `cgroup.procs` files; empty when not possible. */
export function createCgroups(sessionId: string, limits: Limits): string[] {
  const procs: string[] = [];
  const v2 = existsSync(join(cgroupRoot, "cgroup.controllers")) && !existsSync(join(cgroupRoot, "memory"));
  const groups = v2
    ? [{ dir: join(cgroupRoot, "airlock", sessionId), files: { "memory.max": String(limits.memoryMb * 1024 * 1024), "pids.max": String(limits.pids) } }]
    : [
        { dir: join(cgroupRoot, "memory", "airlock", sessionId), files: { "memory.limit_in_bytes": String(limits.memoryMb * 1024 * 1024) } },
        { dir: join(cgroupRoot, "pids", "airlock", sessionId), files: { "pids.max": String(limits.pids) } },
      ];
  for (const g of groups) {
    try {
      accessSync(join(g.dir, ".."), constants.W_OK);
    } catch {
      try {
        mkdirSync(join(g.dir, ".."), { recursive: true });
      } catch {
        continue;
      }
    }
    try {
      mkdirSync(g.dir, { recursive: true });
      for (const [file, value] of Object.entries(g.files)) writeFileSync(join(g.dir, file), value);
      procs.push(join(g.dir, "cgroup.procs"));
    } catch {
      // not writable here: prlimit covers what it can
    }
  }
  return procs;
}

export function removeCgroups(sessionId: string): void {
  for (const dir of [join(cgroupRoot, "airlock", sessionId), join(cgroupRoot, "memory", "airlock", sessionId), join(cgroupRoot, "pids", "airlock", sessionId)]) {
    try {
      if (existsSync(dir)) rmdirSync(dir);
    } catch {}
  }
}

/**
 * The argv prefix that applies the limits before bubblewrap starts: it joins the cgroups itself (so nothing
 * forked later escapes them) and applies prlimit for what cgroups do not cover.
 */
export function limitPrefix(cgroupProcs: string[], limits: Limits, prlimit: string | null): string[] {
  const join = cgroupProcs.length
    ? ["/bin/sh", "-c", 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1"; shift; n=$((n-1)); done; exec "$@"', "airlock-limits", String(cgroupProcs.length), ...cgroupProcs]
    : [];
  const pr = prlimit ? [prlimit, `--nofile=${limits.openFiles}`, `--fsize=${limits.fileSizeMb * 1024 * 1024}`, "--"] : [];
  return [...join, ...pr];
}
