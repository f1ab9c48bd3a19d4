/**
 * @module git — one git command in the workspace, for what the agent reads of a repository (project context,
 * the review's snapshot). Resolves with what git printed, or null where it failed: no repository, no git, too slow.
 */
import { execFile } from "node:child_process";

export function git(root: string, args: string[], options: { timeoutMs: number; maxBuffer: number }): Promise<string | null> {
  return new Promise((resolve) =>
    execFile("git", args, { cwd: root, timeout: options.timeoutMs, maxBuffer: options.maxBuffer }, (err, stdout) => resolve(err ? null : stdout)),
  );
}
