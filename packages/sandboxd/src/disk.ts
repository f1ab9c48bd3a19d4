/**
 * @module disk — how much disk a sandbox's folders use, and a watch that tells when it goes past its limit.
 * Local sandboxes have no filesystem quota on most hosts (no project quotas, no loop devices, or no root), so
 * the relay measures: a walk of the folders counting allocated blocks (a sparse file counts for what it really
 * takes), bounded in entries so that a tree of millions of files cannot stall the relay.
 */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export interface DiskUsage {
  bytes: number;
  /** The walk stopped at `maxEntries`: `bytes` is a lower bound. */
  partial: boolean;
}

/** The allocated bytes under `paths` (links are not followed; unreadable entries are skipped). */
export async function diskUsage(paths: string[], maxEntries = 500_000): Promise<DiskUsage> {
  let bytes = 0;
  let entries = 0;
  const stack = [...paths];
  while (stack.length) {
    const path = stack.pop()!;
    if (++entries > maxEntries) return { bytes, partial: true };
    let st;
    try {
      st = await lstat(path);
    } catch {
      continue;
    }
    bytes += st.blocks * 512;
    if (!st.isDirectory()) continue;
    try {
      for (const name of await readdir(path)) stack.push(join(path, name));
    } catch {}
  }
  return { bytes, partial: false };
}

export const mib = (bytes: number) => Math.round(bytes / (1024 * 1024));

/**
 * Measures `paths` every `intervalMs` and calls `over` once when they hold more than `limitBytes`; measures
 * again at once after a fast growth would otherwise be seen late (each pass waits for the last to finish).
 */
export function watchDisk(paths: string[], limitBytes: number, intervalMs: number, over: (usage: DiskUsage) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const pass = async () => {
    if (stopped) return;
    const usage = await diskUsage(paths);
    if (stopped) return;
    if (usage.bytes > limitBytes) {
      stopped = true;
      over(usage);
      return;
    }
    timer = setTimeout(pass, intervalMs);
    timer.unref();
  };
  timer = setTimeout(pass, Math.min(intervalMs, 1000));
  timer.unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
