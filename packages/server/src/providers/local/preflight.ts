/**
 * @module preflight — checks that local sandboxes can start here, and says exactly what to fix when not.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PreflightProblem, PreflightReport } from "@airlock/protocol";
import { bwrapArgs, group, passwd } from "./bwrap.ts";

export function which(command: string): string | null {
  const r = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function preflight(): PreflightReport {
  const problems: PreflightProblem[] = [];
  const bwrap = which("bwrap");
  if (!bwrap) {
    problems.push({ code: "bwrap_missing", message: "bubblewrap (bwrap) is not installed", fix: "install it: `apt-get install bubblewrap` (Debian/Ubuntu) or `dnf install bubblewrap`" });
    return { ok: false, problems };
  }
  const dir = mkdtempSync(join(tmpdir(), "airlock-preflight-"));
  try {
    writeFileSync(join(dir, "passwd"), passwd);
    writeFileSync(join(dir, "group"), group);
    const args = bwrapArgs({ workspace: dir, home: dir, passwdFile: join(dir, "passwd"), groupFile: join(dir, "group"), readOnlyPaths: [] }, bwrap);
    const r = spawnSync(args[0], [...args.slice(1), process.execPath, "-e", "process.exit(0)"], { encoding: "utf8", timeout: 15_000 });
    if (r.status !== 0) {
      const err = (r.stderr || r.error?.message || "").trim();
      problems.push(explain(err));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!which("git")) {
    problems.push({ code: "git_missing", message: "git is not installed, so workspace diffs are unavailable", fix: "install it: `apt-get install git`" });
  }
  return { ok: !problems.some((p) => p.code !== "git_missing"), problems };
}

function explain(stderr: string): PreflightProblem {
  if (/setting up uid map: Permission denied/i.test(stderr)) {
    return {
      code: "userns_apparmor",
      message: `bubblewrap cannot create a user namespace: ${stderr}. Ubuntu 23.10+ restricts unprivileged user namespaces through AppArmor`,
      fix: "run `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (and persist it in /etc/sysctl.d), or install an AppArmor profile that allows userns for /usr/bin/bwrap",
    };
  }
  if (/No permissions to creat(e|ing) new namespace|Operation not permitted/i.test(stderr)) {
    return {
      code: "userns_disabled",
      message: `bubblewrap cannot create namespaces: ${stderr}`,
      fix: "enable unprivileged user namespaces: `sudo sysctl -w kernel.unprivileged_userns_clone=1` (and `user.max_user_namespaces` > 0); in a container, run it with --privileged or a seccomp profile that allows unshare",
    };
  }
  return { code: "bwrap_failed", message: `a test sandbox did not start: ${stderr || "no error output"}`, fix: "run the bwrap command by hand to see why; check that user namespaces are enabled" };
}
