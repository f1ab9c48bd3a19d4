/**
 * @module preflight — checks that local sandboxes can start on this host, by starting one with the real
 * flags, and says exactly what is missing and how to fix it.
 *
 * Problems that only switch a feature off (no git: no diffs; no slirp4netns: no network; no cgroups and no
 * prlimit: no limits) are reported but leave `ok` true.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PreflightProblem, PreflightReport } from "@airlock/protocol";
import { bwrapArgs, etcFiles, sandboxUid } from "./bwrap.ts";
import { hostLayout, which } from "./host.ts";
import { cgroupVersion } from "./limits.ts";

/** Problem codes that switch a feature off but do not stop local sandboxes. */
export const warningCodes = new Set(["git_missing", "slirp4netns_missing", "network_needs_root", "limits_unavailable"]);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

const run = (argv: string[]) =>
  new Promise<Ran>((resolve) => {
    execFile(argv[0], argv.slice(1), { encoding: "utf8", timeout: 15_000, env: { PATH: "/usr/local/bin:/usr/bin:/bin" } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === null ? err.message : "") });
    });
  });

/** `forbidden`: host folders that must stay hidden from sandboxes (the data folder, $HOME). */
export async function preflight(forbidden: string[] = []): Promise<PreflightReport> {
  const problems: PreflightProblem[] = [];
  const host = hostLayout();
  if (!host) {
    problems.push({ code: "bwrap_missing", message: "bubblewrap (bwrap) is not installed, so local sandboxes cannot start", fix: "install it: `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap` (Fedora)" });
  } else {
    const dir = mkdtempSync(join(tmpdir(), "airlock-preflight-"));
    try {
      for (const sub of ["workspace", "home", "etc"]) mkdirSync(join(dir, sub));
      for (const [name, content] of Object.entries(etcFiles(false))) writeFileSync(join(dir, "etc", name), content);
      let wrap: string[] | null = null;
      try {
        wrap = bwrapArgs({ workspace: join(dir, "workspace"), home: join(dir, "home"), etcDir: join(dir, "etc"), readOnlyPaths: [], forbidden }, host);
      } catch (err) {
        problems.push({ code: "runtime_hidden", message: (err as Error).message, fix: "install Node under /usr (a distribution package or /usr/local), or in a folder outside $HOME and the data folder" });
      }
      if (wrap) problems.push(...(await trySandbox(wrap)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (!which("git")) problems.push({ code: "git_missing", message: "git is not installed, so workspace diffs and `workspace.git` are unavailable", fix: "install it: `apt-get install git`" });
  if (!which("slirp4netns")) {
    problems.push({ code: "slirp4netns_missing", message: "slirp4netns is not installed, so sessions cannot ask for network access (`network: true`)", fix: "install it: `apt-get install slirp4netns`" });
  } else if (process.getuid?.() !== 0) {
    problems.push({ code: "network_needs_root", message: "sessions cannot ask for network access (`network: true`) unless Airlock runs as root", fix: "run Airlock as root to offer network access to local sandboxes" });
  }
  if (!cgroupVersion() && !which("prlimit")) {
    problems.push({ code: "limits_unavailable", message: "no writable cgroups and no prlimit: sandboxes run without memory or process limits", fix: "run Airlock as root or with a delegated cgroup, or install prlimit (`apt-get install util-linux`)" });
  }
  return { ok: !problems.some((p) => !warningCodes.has(p.code)), problems };
}

/** Starts `/bin/true`, then Node, in a sandbox made with the real flags. */
async function trySandbox(wrap: string[]): Promise<PreflightProblem[]> {
  const trivial = await run([...wrap, "/bin/true"]);
  if (trivial.code !== 0) return [explain(trivial.stderr.trim())];
  const node = await run([...wrap, process.execPath, "-e", "process.stdout.write(String(process.getuid()))"]);
  if (node.code === 0 && node.stdout === String(sandboxUid)) return [];
  return [
    {
      code: "node_failed",
      message: `Node (${process.execPath}) does not run inside a sandbox: ${(node.stderr || node.stdout).trim() || `exit ${node.code}`}`,
      fix: "install Node under /usr (a distribution package or /usr/local), or in a folder outside $HOME and the data folder",
    },
  ];
}

/** Turns bubblewrap's error output into what to do about it. */
export function explain(stderr: string): PreflightProblem {
  if (/setting up uid map: Permission denied/i.test(stderr)) {
    return {
      code: "userns_apparmor",
      message: `bubblewrap cannot set up a user namespace (${stderr}): Ubuntu 23.10 and later restrict unprivileged user namespaces through AppArmor`,
      fix: "run `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (persist it in /etc/sysctl.d/), or install an AppArmor profile for /usr/bin/bwrap that allows `userns`",
    };
  }
  if (/No permissions to creat(e|ing) new namespace/i.test(stderr)) {
    return {
      code: "userns_disabled",
      message: `bubblewrap cannot create namespaces (${stderr}): unprivileged user namespaces are disabled`,
      fix: "run `sudo sysctl -w kernel.unprivileged_userns_clone=1` and check `user.max_user_namespaces` is above 0 (persist both in /etc/sysctl.d/); in a container, allow unshare (e.g. --security-opt seccomp=unconfined) or run it privileged",
    };
  }
  if (/Operation not permitted/i.test(stderr)) {
    return {
      code: "userns_denied",
      message: `bubblewrap was refused a namespace (${stderr})`,
      fix: "check `user.max_user_namespaces` is above 0; in a container, allow unshare (seccomp) and mounts, or run it privileged",
    };
  }
  return { code: "bwrap_failed", message: `a test sandbox did not start: ${stderr || "no error output"}`, fix: "run the bwrap command line from the server log by hand to see why; check that user namespaces are enabled" };
}
