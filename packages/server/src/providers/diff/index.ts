/**
 * @module diff — the one way both providers record a workspace and diff it: the program `workspace-diff.mjs`
 * (plain JavaScript, see there why git's own `add` is not used), run on the host for local sandboxes and
 * inside the sandbox for E2B. This module holds its job description, its bounds and how its answer is read.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AirlockError, type WorkspaceDiff } from "@airlock/protocol";

export const diffScriptPath = fileURLToPath(new URL("./workspace-diff.mjs", import.meta.url));

let source: string | null = null;
/** The program's text, to run where the file is not (`node --input-type=module -e`). */
export function diffScriptSource(): string {
  return (source ??= readFileSync(diffScriptPath, "utf8"));
}

export interface DiffLimits {
  /** Bytes of unified diff returned. */
  maxDiffBytes: number;
  /** A file over this is summarized (size and mtime), never read. */
  maxFileBytes: number;
  /** Bytes read per diff, all files together. */
  maxReadBytes: number;
  maxFiles: number;
  timeMs: number;
}

export const defaultDiffLimits: DiffLimits = { maxDiffBytes: 4 << 20, maxFileBytes: 8 << 20, maxReadBytes: 512 << 20, maxFiles: 200_000, timeMs: 30_000 };
/** The baseline reads every file up to maxFileBytes (a later diff compares against its content) and may take longer. */
export const baselineLimits: DiffLimits = { ...defaultDiffLimits, maxReadBytes: Number.MAX_SAFE_INTEGER, timeMs: 5 * 60_000 };

export interface DiffJob {
  mode: "baseline" | "diff";
  gitDir: string;
  workTree: string;
  /** The diff's own index and object folder (mode `diff`). */
  tmpDir?: string;
  limits: DiffLimits;
}

export const noGit = () => new AirlockError("unavailable", "workspace diffs need git on the Airlock host, and it is not installed: `apt-get install git`");
export const noBaseline = () => new AirlockError("unavailable", "this workspace has no baseline to diff against (git was missing when the session started)");

/** Reads the program's answer (exit code, stdout, stderr) as the API's diff, or the error to answer. */
export function diffResult(code: number | null, stdout: string, stderr: string): WorkspaceDiff {
  if (code === 3) throw noGit();
  if (code === 4) throw noBaseline();
  if (code === 0) {
    try {
      const parsed = JSON.parse(stdout) as WorkspaceDiff;
      return { diff: parsed.diff, truncated: parsed.truncated === true, notes: parsed.notes ?? [] };
    } catch {
      // fall through: an answer cut short (the process was killed at its time bound)
    }
  }
  throw new AirlockError("unavailable", `the workspace diff did not complete (${code ?? "killed"}): ${stderr.trim().slice(-500) || "no error output"}`);
}
