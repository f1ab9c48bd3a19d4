/**
 * @module diff — what a session changed in its workspace: a baseline commit made at creation in a git folder
 * outside the workspace (the agent cannot touch it), and diffs against it that include new and deleted files.
 *
 * Each diff uses its own temporary index and object folder (the baseline's objects as alternates), so diffs
 * may run side by side and never grow the baseline. Git runs with no system or user configuration: nothing
 * in the workspace (it is the agent's) can name a program for it to run.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AirlockError } from "@airlock/protocol";
import { which } from "./host.ts";

export const maxDiffBytes = 4 * 1024 * 1024;

const gitEnv = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  HOME: "/nonexistent",
  LANG: "C",
  ...extra,
});
const common = ["-c", "core.quotePath=false", "-c", "core.autocrlf=false", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"];

export function gitAvailable(): boolean {
  return which("git") !== null;
}

const noGit = () => new AirlockError("unavailable", "workspace diffs need git on the Airlock host, and it is not installed: `apt-get install git`");

interface Run {
  stdout: string;
  truncated: boolean;
}

/** Runs git, keeping at most `maxBytes` of its output (it is stopped past that). */
function git(args: string[], env: Record<string, string>, maxBytes = 64 * 1024, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn("git", [...common, ...args], { env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let truncated = false;
    let stderr = "";
    proc.stdout!.on("data", (chunk: Buffer) => {
      if (truncated) return;
      if (bytes + chunk.length > maxBytes) {
        chunks.push(chunk.subarray(0, maxBytes - bytes));
        truncated = true;
        proc.kill("SIGKILL");
        return;
      }
      chunks.push(chunk);
      bytes += chunk.length;
    });
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    proc.on("error", (err) => reject((err as NodeJS.ErrnoException).code === "ENOENT" ? noGit() : err));
    proc.on("close", (code, signal) => {
      if (code === 0 || truncated) resolve({ stdout: Buffer.concat(chunks).toString("utf8"), truncated });
      else reject(new AirlockError("internal", `git ${args.find((a) => !a.startsWith("-"))} failed (${signal ?? code}): ${stderr.trim()}`));
    });
  });
}

/** Records the workspace as it is now, so later diffs show what the session changed. */
export async function makeBaseline(gitDir: string, workspace: string): Promise<void> {
  const at = [`--git-dir=${gitDir}`, `--work-tree=${workspace}`];
  const env = gitEnv();
  await git(["-c", "init.defaultBranch=main", ...at, "init", "--quiet"], env);
  await git([...at, "add", "-A"], env);
  await git(["-c", "user.name=airlock", "-c", "user.email=airlock@localhost", ...at, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", "workspace at session start"], env);
}

/** Unified diff of the workspace against the baseline, new and deleted files included; bounded. */
export async function diffWorkspace(gitDir: string, workspace: string, maxBytes = maxDiffBytes): Promise<string> {
  if (!gitAvailable()) throw noGit();
  if (!existsSync(gitDir)) throw new AirlockError("unavailable", "this workspace has no baseline to diff against (git was missing when the session started)");
  const tmp = mkdtempSync(join(tmpdir(), "airlock-diff-"));
  try {
    mkdirSync(join(tmp, "objects"));
    const env = gitEnv({
      GIT_INDEX_FILE: join(tmp, "index"),
      GIT_OBJECT_DIRECTORY: join(tmp, "objects"),
      GIT_ALTERNATE_OBJECT_DIRECTORIES: join(gitDir, "objects"),
    });
    const at = [`--git-dir=${gitDir}`, `--work-tree=${workspace}`];
    await git([...at, "add", "-A"], env);
    const { stdout, truncated } = await git([...at, "diff", "--cached", "--no-color", "--no-ext-diff", "--no-textconv", "HEAD"], env, maxBytes);
    return truncated ? `${stdout}\n[diff truncated at ${maxBytes} bytes]\n` : stdout;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
