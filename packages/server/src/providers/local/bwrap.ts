/**
 * @module bwrap — the bubblewrap command line that isolates an agent: its own user, pid, ipc, uts, cgroup and
 * network namespaces, no capabilities, uid 1000, and only what the runtime needs mounted read-only.
 * Pure: the host's layout comes in as data (see `hostLayout()` in host.ts), so the argv is unit-tested.
 */
import { isAbsolute, normalize, sep } from "node:path";
import { hostLayout } from "./host.ts";
import { dropToSandboxUser } from "./uid-map.ts";

/** What bubblewrap needs to know about the host. */
export interface HostLayout {
  /** Absolute path of bwrap. */
  bwrap: string;
  /** The merged-/usr entries (`/bin`, `/lib`, ...) present on the host: `link` is the symlink's target, null for a real folder. */
  usr: Array<{ path: string; link: string | null }>;
  /** Folders holding the Node runtime when it is not under /usr, preferred first (its prefix, then its bin folder). */
  runtime: string[];
  /** bwrap supports `--disable-userns` (0.8+). */
  disableUserns: boolean;
}

export interface BwrapSpec {
  workspace: string;
  home: string;
  /** Folder holding the generated `passwd`, `group`, `hosts` (and `resolv.conf` with network), see `etcFiles`. */
  etcDir?: string;
  /** Without `etcDir`: the generated passwd and group files alone (`passwd`, `group` below). */
  passwdFile?: string;
  groupFile?: string;
  /** Host paths the agent's program needs, visible read-only at the same path. */
  readOnlyPaths: string[];
  /** Extra read-write binds (host path → sandbox path). */
  binds?: Array<{ host: string; sandbox: string }>;
  /**
   * Outbound network through slirp4netns: bwrap reports its child's pid on fd 3 and waits for a byte on fd 4
   * before running the command, so the caller (net-wrap.mjs) must provide both.
   */
  network?: boolean;
  /**
   * Keep the network namespace the wrap runs in (entered with nsenter: the sandbox's shared one, see netns.ts)
   * instead of making one; `network` is then the holder's business.
   */
  shareNet?: boolean;
  /** Outlive the spawner (the network holder only: it must survive a restart of the server). */
  outliveParent?: boolean;
  /**
   * The sandbox's whole environment: bwrap starts it from nothing (`--clearenv`), so no variable of the host
   * side (the relay's, a shell's `PWD` naming the host folder) reaches the agent.
   */
  setenv?: Record<string, string>;
  /** Host paths that must stay invisible (the data folder, $HOME): a read-only path containing one is refused. */
  forbidden?: string[];
  /** The fd on which bwrap reads the seccomp filter (see seccomp.ts: `seccompPrefix` opens it). */
  seccompFd?: number;
  /**
   * The user namespace's maps are written from outside (uid-map.ts): bwrap keeps CAP_SETUID and CAP_SETGID for
   * the command's drop to uid 1000, does not write --info-fd itself, and cannot take --disable-userns (the
   * seccomp filter refuses new user namespaces instead).
   */
  mappedUser?: boolean;
}

export const sandboxWorkspace = "/workspace";
export const sandboxHome = "/home/agent";
export const sandboxUid = 1000;

/** Host files a process commonly reads; bound when they exist (`--ro-bind-try`). */
const etcPieces = ["/etc/ssl", "/etc/ca-certificates", "/etc/alternatives", "/etc/localtime", "/etc/nsswitch.conf", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/os-release"];

/**
 * The argv prefix (ending in `--`) that runs a command inside the sandbox. Pure given `host`; without it the
 * host is probed (once per process).
 */
export function bwrapArgs(spec: BwrapSpec, host: HostLayout | null = hostLayout()): string[] {
  if (!host) throw new Error("bubblewrap (bwrap) is not installed: `apt-get install bubblewrap`");
  const etc: Array<[string, string]> = spec.etcDir
    ? ["passwd", "group", "hosts", ...(spec.network ? ["resolv.conf"] : [])].map((name) => [`${spec.etcDir}/${name}`, `/etc/${name}`])
    : spec.passwdFile && spec.groupFile
      ? [[spec.passwdFile, "/etc/passwd"], [spec.groupFile, "/etc/group"]]
      : [];
  if (etc.length === 0) throw new Error("bwrapArgs needs etcDir (or passwdFile and groupFile)");
  const forbidden = spec.forbidden ?? [];
  const runtime = host.runtime.find((dir) => exposes(dir, forbidden) === null);
  if (host.runtime.length && !runtime) throw new Error(`the Node runtime (${host.runtime.at(-1)}) is in a folder that must stay hidden from sandboxes (${exposes(host.runtime.at(-1)!, forbidden)}); install Node elsewhere`);
  const readOnly = [...(runtime ? [runtime] : []), ...spec.readOnlyPaths].map((p) => {
    const hidden = exposes(p, forbidden);
    if (hidden !== null) throw new Error(`read-only path ${p} would expose ${hidden} to the sandbox`);
    return normalize(p).replace(/(.)\/+$/, "$1");
  });
  const args = [
    host.bwrap,
    "--unshare-all",
    ...(spec.shareNet ? ["--share-net"] : []),
    "--unshare-user",
    "--uid", String(sandboxUid),
    "--gid", String(sandboxUid),
    ...(host.disableUserns && !spec.mappedUser ? ["--disable-userns"] : []),
    ...(spec.outliveParent ? [] : ["--die-with-parent"]),
    "--new-session",
    "--cap-drop", "ALL",
    ...(spec.mappedUser ? ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] : []),
    "--hostname", "airlock",
    "--ro-bind", "/usr", "/usr",
  ];
  for (const { path, link } of host.usr) {
    if (link !== null) args.push("--symlink", link, path);
    else args.push("--ro-bind", path, path);
  }
  // With outside-written maps bwrap makes the folders above its binds 0700 as root: uid 1000 could not enter them.
  if (spec.mappedUser) args.push("--dir", "/etc", "--dir", "/home", "--dir", "/run");
  for (const path of etcPieces) args.push("--ro-bind-try", path, path);
  for (const [from, to] of etc) args.push("--ro-bind", from, to);
  // The private /tmp comes before the read-only binds: a program installed under /tmp must stay visible.
  // The private /tmp belongs to root when the maps are written outside: sticky and open to all, as on a host.
  args.push("--proc", "/proc", "--dev", "/dev", ...(spec.mappedUser ? ["--perms", "1777"] : []), "--tmpfs", "/tmp");
  if (spec.mappedUser) for (const dir of ancestors([...readOnly, ...(spec.binds ?? []).map((b) => b.sandbox)])) args.push("--dir", dir);
  for (const path of readOnly) args.push("--ro-bind-try", path, path);
  args.push("--bind", spec.workspace, sandboxWorkspace, "--bind", spec.home, sandboxHome);
  for (const b of spec.binds ?? []) args.push("--bind", b.host, b.sandbox);
  args.push("--clearenv");
  for (const [name, value] of Object.entries(spec.setenv ?? {})) args.push("--setenv", name, value);
  if (spec.network && !spec.shareNet) args.push(...(spec.mappedUser ? [] : ["--info-fd", "3"]), "--block-fd", "4");
  if (spec.seccompFd !== undefined) args.push("--seccomp", String(spec.seccompFd));
  // The root is a tmpfs made by bwrap; as root on the host the agent's uid owns it: make it read-only (the
  // binds and the private /tmp keep their own flags).
  args.push("--remount-ro", "/", "--chdir", sandboxWorkspace, "--");
  if (spec.mappedUser) args.push(...dropToSandboxUser);
  return args;
}

/**
 * The folders above `paths` that bwrap would otherwise make itself (0700 and root's when the maps are written
 * outside, so uid 1000 could not reach what is bound below): parents first, none under /usr (bound already).
 */
export function ancestors(paths: string[]): string[] {
  const out = new Set<string>();
  for (const path of paths) {
    const parts = normalize(path).split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = "/" + parts.slice(0, i).join("/");
      if (dir === "/usr" || dir.startsWith("/usr/") || dir === "/proc" || dir.startsWith("/proc/") || dir === "/dev" || dir.startsWith("/dev/")) continue;
      out.add(dir);
    }
  }
  return [...out].sort((a, b) => a.split("/").length - b.split("/").length);
}

/**
 * What a read-only bind of `path` would wrongly expose: a relative path, `/` wholesale, or a forbidden folder
 * it contains; null when it is fine.
 */
export function exposes(path: string, forbidden: string[]): string | null {
  if (!isAbsolute(path)) return `a relative path (${path})`;
  const p = normalize(path).replace(/\/+$/, "") || "/";
  if (p === "/") return "the whole host file system";
  for (const f of forbidden) {
    const hidden = normalize(f).replace(/\/+$/, "") || "/";
    if (p === hidden || hidden.startsWith(p + sep)) return hidden;
  }
  return null;
}

/** The /etc files the sandbox gets instead of the host's: uid 1000 is "agent" with home /home/agent. */
export function etcFiles(network: boolean): Record<string, string> {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nagent:x:${sandboxUid}:${sandboxUid}:agent:${sandboxHome}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nagent:x:${sandboxUid}:\nnogroup:x:65534:\n`,
    hosts: "127.0.0.1\tlocalhost airlock\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    // slirp4netns answers DNS at 10.0.2.3 (forwarding to the host's resolver).
    ...(network ? { "resolv.conf": "nameserver 10.0.2.3\n" } : {}),
  };
}

/** The generated passwd and group on their own. */
export const passwd = etcFiles(false).passwd;
export const group = etcFiles(false).group;

/**
 * Variables that change how the dynamic loader, libc, a shell or Node behave. The wrap's host-side programs
 * (sh, prlimit, bwrap, node) run as the server's user outside the sandbox, so these must not reach them
 * (`LD_PRELOAD=/path/in/workspace/x.so` would run the agent's code on the host): they go inside with `--setenv`.
 */
const hostSensitive = /^(LD_.*|NODE_.*|GCONV_PATH|GETCONF_DIR|HOSTALIASES|LOCALDOMAIN|LOCPATH|MALLOC_.*|NLSPATH|RES_OPTIONS|RESOLV_HOST_CONF|TMPDIR|TZDIR|GLIBC_TUNABLES|BASH_ENV|ENV|IFS|CDPATH|PS4|SHELLOPTS)$/;

/** Splits an agent's environment into what the spawner may pass (host) and what only the sandbox gets (inside). */
export function splitEnv(env: Record<string, string>): { host: Record<string, string>; inside: Record<string, string> } {
  const host: Record<string, string> = {};
  const inside: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) (hostSensitive.test(name) ? inside : host)[name] = value;
  return { host, inside };
}
