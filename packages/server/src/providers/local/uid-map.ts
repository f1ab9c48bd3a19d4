/**
 * @module uid-map — who a local sandbox's user is on the host. When the server runs as root, bubblewrap would
 * map the sandbox's uid 1000 to root (its own uid): no capability inside, but an escape would land as root. So
 * the sandbox's uid and gid 1000 are mapped to an unprivileged host uid and gid instead (`AIRLOCK_SANDBOX_UID`,
 * default 100000; `AIRLOCK_SANDBOX_GID`, default the same): bwrap still runs as root for its set-up, through
 * uid-map.pl which writes the namespace's maps, and the command drops to uid 1000 (setpriv) before it runs.
 * The sandbox's read-write folders belong to that uid on the host; the server, as root, still reads and writes
 * them. Not root (or `AIRLOCK_SANDBOX_UID=0`): bwrap maps 1000 to the server's own uid, as before.
 */
import { chownSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { which } from "./host.ts";

export interface SandboxOwner {
  uid: number;
  gid: number;
}

export const uidMapPath = fileURLToPath(new URL("./uid-map.pl", import.meta.url));
export const defaultSandboxUid = 100000;

/** The host uid and gid a sandbox's user is, or null when the sandbox user is the server's own. */
export function sandboxOwner(env: NodeJS.ProcessEnv = process.env, isRoot = process.getuid?.() === 0): SandboxOwner | null {
  if (!isRoot) return null;
  const uid = idOf(env.AIRLOCK_SANDBOX_UID, defaultSandboxUid, "AIRLOCK_SANDBOX_UID");
  if (uid === 0) return null;
  const gid = idOf(env.AIRLOCK_SANDBOX_GID, uid, "AIRLOCK_SANDBOX_GID");
  if (!which("perl") || !which("setpriv")) return null;
  return { uid, gid };
}

function idOf(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value.trim() === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32 - 1) throw new Error(`${name} must be a uid (a non-negative integer), got "${value}"`);
  return n;
}

/**
 * The argv prefix that starts bwrap (the next word) with the maps written for `owner`. With network, bwrap's
 * info goes on to net-wrap's fd 3 (bwrap takes one --info-fd only).
 */
export function uidMapPrefix(owner: SandboxOwner, network: boolean): string[] {
  return [which("perl") ?? "/usr/bin/perl", uidMapPath, String(owner.uid), String(owner.gid), network ? "3" : "-"];
}

/** After bwrap's `--`: become uid and gid 1000 (the mapped user), with no capability left, then run the command. */
export const dropToSandboxUser = ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "--inh-caps=-all", "--"];

/** Gives a folder and everything in it (links themselves, not their targets) to `owner`. */
export function chownTree(path: string, owner: SandboxOwner): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return;
  if (st.uid !== owner.uid || st.gid !== owner.gid) {
    try {
      chownSync(path, owner.uid, owner.gid);
    } catch {}
  }
  if (!st.isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name), owner);
}

/** True when the folder already belongs to `owner` (a sandbox made before the mapping, or with another uid, does not). */
export function ownedBy(path: string, owner: SandboxOwner): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return !st || (st.uid === owner.uid && st.gid === owner.gid);
}
