/**
 * @module diff — what a local session changed in its workspace: a baseline commit made at creation in a git
 * folder outside the workspace (the agent cannot touch it), and bounded diffs against it, both made by the
 * shared program (providers/diff). It runs on the host as a process of its own, with a clean environment and
 * no git configuration: nothing in the workspace (it is the agent's) can name a program for it to run.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorkspaceDiff } from "@airlock/protocol";
import { type DiffJob, type DiffLimits, baselineLimits, defaultDiffLimits, diffResult, diffScriptPath, noGit } from "../diff/index.ts";
import { which } from "./host.ts";

export function gitAvailable(): boolean {
  return which("git") !== null;
}

function run(job: DiffJob): Promise<WorkspaceDiff> {
  return new Promise((resolve, reject) => {
    // The program bounds itself; this is the backstop for one that hangs (a workspace on a stuck mount).
    const proc = spawn(process.execPath, [diffScriptPath, JSON.stringify(job)], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: job.limits.timeMs + 30_000,
      killSignal: "SIGKILL",
    });
    let stdout = "";
    let stderr = "";
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (chunk: string) => (stdout += chunk));
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    proc.on("error", reject);
    proc.on("close", (code) => {
      try {
        resolve(diffResult(code, stdout, stderr));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Records the workspace as it is now, so later diffs show what the session changed. */
export async function makeBaseline(gitDir: string, workspace: string): Promise<void> {
  await run({ mode: "baseline", gitDir, workTree: workspace, limits: baselineLimits });
}

/** Unified diff of the workspace against the baseline, new and deleted files included; bounded. */
export async function diffWorkspace(gitDir: string, workspace: string, limits: Partial<DiffLimits> = {}): Promise<WorkspaceDiff> {
  if (!gitAvailable()) throw noGit();
  const tmp = mkdtempSync(join(tmpdir(), "airlock-diff-"));
  try {
    return await run({ mode: "diff", gitDir, workTree: workspace, tmpDir: tmp, limits: { ...defaultDiffLimits, ...limits } });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
