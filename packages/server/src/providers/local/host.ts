/**
 * @module host — what this host offers local sandboxes (programs, the merged-/usr layout, bubblewrap's
 * options) and the process checks the provider needs. Probed once per process; no shell is spawned.
 */
import { accessSync, constants, existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { basename, delimiter, dirname, join } from "node:path";
import type { HostLayout } from "./bwrap.ts";

/** The absolute path of a program on PATH (or the fallback folders a service manager may leave out). */
export function which(program: string, path = process.env.PATH ?? ""): string | null {
  const dirs = [...path.split(delimiter), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
  for (const dir of dirs) {
    if (!dir.startsWith("/")) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

let cached: HostLayout | null = null;

/** The host's layout as bubblewrap needs it; null when bwrap is not installed. */
export function hostLayout(): HostLayout | null {
  if (cached) return cached;
  const bwrap = which("bwrap");
  if (!bwrap) return null;
  const usr: HostLayout["usr"] = [];
  for (const path of ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]) {
    if (!existsSync(path)) continue;
    usr.push({ path, link: lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null });
  }
  // `--disable-userns` (bubblewrap 0.8+) keeps the agent from making user namespaces of its own.
  const help = spawnSync(bwrap, ["--help"], { encoding: "utf8", timeout: 5000 });
  cached = { bwrap, usr, runtime: runtimeDirs(process.execPath), disableUserns: `${help.stdout}${help.stderr}`.includes("--disable-userns") };
  return cached;
}

/**
 * The folders holding this Node runtime when it is not under /usr, preferred first: `<prefix>` for
 * `<prefix>/bin/node` (npm and its libraries live beside it), then the binary's own folder.
 */
export function runtimeDirs(execPath: string): string[] {
  const bin = dirname(execPath);
  if (bin === "/usr" || bin.startsWith("/usr/")) return [];
  return basename(bin) === "bin" && dirname(bin) !== "/" ? [dirname(bin), bin] : [bin];
}

/** True when `pid` is a live process (a zombie counts as gone). */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** Every descendant of `root` (children first, then theirs), read from /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The parent pid is the 4th field, after the command name in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {}
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) for (const c of children.get(queue.shift()!) ?? []) out.push(c), queue.push(c);
  return out;
}

/** A process's command line, or "" when it is gone or unreadable: used so a recycled pid is never killed. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

export function kill(pid: number, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {}
}
