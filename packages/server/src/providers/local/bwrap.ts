/**
 * @module bwrap — the bubblewrap command line that isolates an agent: its own user, pid, ipc, uts, cgroup and
 * network namespaces, no capabilities, uid 1000, and only what the runtime needs mounted read-only.
 */
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { dirname } from "node:path";

export interface BwrapSpec {
  workspace: string;
  home: string;
  /** Synthesized /etc/passwd and /etc/group naming uid 1000 "agent". */
  passwdFile: string;
  groupFile: string;
  readOnlyPaths: string[];
  /** Extra read-write binds (host path → sandbox path). */
  binds?: Array<{ host: string; sandbox: string }>;
}

export const sandboxWorkspace = "/workspace";
export const sandboxHome = "/home/agent";

const etcPieces = ["/etc/ssl", "/etc/ca-certificates", "/etc/alternatives", "/etc/localtime", "/etc/nsswitch.conf", "/etc/hosts", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"];
const mergedUsr = ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"];

/** The argv prefix (ending in `--`) that runs a command inside the sandbox. */
export function bwrapArgs(spec: BwrapSpec, bwrap = "bwrap"): string[] {
  const args = [
    bwrap,
    "--unshare-all",
    "--unshare-user",
    "--uid", "1000",
    "--gid", "1000",
    "--die-with-parent",
    "--new-session",
    "--cap-drop", "ALL",
    "--hostname", "airlock",
    "--ro-bind", "/usr", "/usr",
  ];
  for (const path of mergedUsr) {
    if (!existsSync(path)) continue;
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) args.push("--symlink", readlinkSync(path), path);
    else args.push("--ro-bind", path, path);
  }
  for (const path of etcPieces) if (existsSync(path)) args.push("--ro-bind", path, path);
  args.push("--ro-bind", spec.passwdFile, "/etc/passwd", "--ro-bind", spec.groupFile, "/etc/group");
  // The private /tmp comes before the read-only binds: a program installed under /tmp must stay visible.
  args.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp");
  const runtime = dirname(process.execPath);
  const extra = runtime.startsWith("/usr/") ? [] : [dirname(runtime)];
  for (const path of [...extra, ...spec.readOnlyPaths]) if (existsSync(path)) args.push("--ro-bind", path, path);
  args.push("--bind", spec.workspace, sandboxWorkspace, "--bind", spec.home, sandboxHome);
  for (const b of spec.binds ?? []) args.push("--bind", b.host, b.sandbox);
  args.push("--chdir", sandboxWorkspace, "--");
  return args;
}

export const passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\nagent:x:1000:1000:agent:/home/agent:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
export const group = "root:x:0:\nagent:x:1000:\nnogroup:x:65534:\n";
