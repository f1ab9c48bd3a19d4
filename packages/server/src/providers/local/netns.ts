/**
 * @module netns — one network namespace shared by every process of a local sandbox: the agent, its terminal
 * commands, setup commands and services. Without it each bubblewrap start makes a namespace of its own, and a
 * dev server a service starts on localhost:3000 is out of the agent's reach.
 *
 * A holder process (`sleep infinity` under the sandbox's own bubblewrap, with slirp4netns beside it when the
 * sandbox has network) keeps the namespace alive for the sandbox's life, across restarts of the agent and of the
 * server; every other process enters it with `nsenter --net` before bubblewrap starts with `--share-net`.
 * Entering a namespace takes root: a server that is not root keeps one namespace per process.
 *
 * `<sandbox>/relay/netns.json` records the holder; its namespace is used only while the recorded process still
 * sits in the recorded namespace (a pid recycled after a reboot has another one).
 */
import { spawn } from "node:child_process";
import { readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { alive, descendants, kill, which } from "./host.ts";

interface Holder {
  /** The holder's outermost process (its group leader). */
  pid: number;
  /** The `sleep` inside: its namespace is the sandbox's. */
  nsPid: number;
  /** `net:[inode]` of that namespace. */
  ns: string;
}

const fileOf = (relayDir: string) => join(relayDir, "netns.json");

/** nsenter's path when this server may share a namespace between a sandbox's processes, else null. */
export function sharedNetSupport(): string | null {
  return process.getuid?.() === 0 ? which("nsenter") : null;
}

function read(relayDir: string): Holder | null {
  try {
    const h = JSON.parse(readFileSync(fileOf(relayDir), "utf8")) as Holder;
    return alive(h.nsPid) && nsOf(h.nsPid) === h.ns ? h : null;
  } catch {
    return null;
  }
}

function nsOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return null;
  }
}

/**
 * The path of the sandbox's network namespace (`/proc/PID/ns/net`), starting its holder when none lives.
 * `holderArgv` is the sandbox's wrap (bubblewrap making the namespace) up to and including `--`.
 */
export async function ensureSharedNet(relayDir: string, holderArgv: string[]): Promise<string> {
  const current = read(relayDir);
  if (current) return `/proc/${current.nsPid}/ns/net`;
  stopSharedNet(relayDir);
  const argv = [...holderArgv, "sleep", "infinity"];
  // Detached and not tied to this process: the namespace must outlive a restart of the server.
  const proc = spawn(argv[0], argv.slice(1), { detached: true, stdio: "ignore", env: { PATH: "/usr/bin:/bin" } });
  proc.unref();
  const pid = proc.pid;
  if (pid === undefined) throw new Error("could not start the sandbox's network holder");
  const own = nsOf(process.pid);
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (!alive(pid)) throw new Error("the sandbox's network holder exited at once");
    for (const child of descendants(pid)) {
      const ns = nsOf(child);
      if (ns && ns !== own && cmdOf(child).startsWith("sleep infinity")) {
        const holder: Holder = { pid, nsPid: child, ns };
        writeFileSync(fileOf(relayDir), JSON.stringify(holder), { mode: 0o600 });
        return `/proc/${child}/ns/net`;
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  kill(-pid);
  throw new Error("the sandbox's network holder did not start within 10 s");
}

/** Ends the holder (the namespace goes once nothing else is in it). Idempotent. */
export function stopSharedNet(relayDir: string): void {
  try {
    const h = JSON.parse(readFileSync(fileOf(relayDir), "utf8")) as Holder;
    // Only a process still in the recorded namespace is the holder: a recycled pid is left alone.
    if (alive(h.nsPid) && nsOf(h.nsPid) === h.ns) {
      kill(h.nsPid);
      kill(-h.pid);
    }
  } catch {}
  rmSync(fileOf(relayDir), { force: true });
}

function cmdOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
