/**
 * @module workspace — the host side of a local sandbox's workspace: seeding, confined reads, and diffs
 * against a baseline commit kept outside the workspace (the agent cannot touch it).
 */
import { execFile } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { promisify } from "node:util";
import { AirlockError, type WorkspaceEntry, badRequest, notFound } from "@airlock/protocol";

const run = promisify(execFile);
const maxFileBytes = 1024 * 1024;
const maxEntries = 2000;
const maxDiffBytes = 4 * 1024 * 1024;

const gitEnv = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", HOME: "/nonexistent" });

/** Writes seed files; every path must stay inside the workspace. */
export function seedFiles(workspace: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const target = resolve(workspace, path);
    if (!target.startsWith(workspace + sep)) throw badRequest(`workspace file ${path} is outside the workspace`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

/** The host path for a workspace-relative path, refusing escapes through `..` or symlinks. */
export function confine(workspace: string, path: string): string {
  const target = resolve(workspace, path);
  const root = realpathSync(workspace);
  if (target !== workspace && !target.startsWith(workspace + sep)) throw badRequest(`${path} is outside the workspace`);
  if (!existsSync(target)) throw notFound(`no file or folder ${path || "/"} in the workspace`);
  const real = realpathSync(target);
  if (real !== root && !real.startsWith(root + sep)) throw badRequest(`${path} leads outside the workspace`);
  return real;
}

export function readWorkspace(workspace: string, path: string): WorkspaceEntry {
  const host = confine(workspace, path);
  const rel = relative(realpathSync(workspace), host).split(sep).join("/");
  const stat = statSync(host);
  if (stat.isDirectory()) {
    const names = readdirSync(host).slice(0, maxEntries);
    const entries = names.map((name) => {
      const s = lstatSync(join(host, name));
      const type = s.isSymbolicLink() ? ("symlink" as const) : s.isDirectory() ? ("dir" as const) : s.isFile() ? ("file" as const) : ("other" as const);
      return { name, type, size: s.isFile() ? s.size : 0 };
    });
    entries.sort((a, b) => (a.type === "dir") !== (b.type === "dir") ? (a.type === "dir" ? -1 : 1) : a.name.localeCompare(b.name));
    return { type: "dir", path: rel, entries };
  }
  const buf = readFileSync(host).subarray(0, maxFileBytes);
  const binary = buf.subarray(0, 8192).includes(0);
  return { type: "file", path: rel, size: stat.size, content: buf.toString(binary ? "base64" : "utf8"), encoding: binary ? "base64" : "utf8", truncated: stat.size > maxFileBytes };
}

/** Records the workspace as it is now, so later diffs show what the session changed. */
export async function makeBaseline(gitDir: string, workspace: string): Promise<void> {
  const git = (...args: string[]) => run("git", [`--git-dir=${gitDir}`, `--work-tree=${workspace}`, ...args], { env: gitEnv() });
  await git("init", "-q");
  await git("add", "-A");
  await git("-c", "user.name=airlock", "-c", "user.email=airlock@localhost", "commit", "-q", "--allow-empty", "--no-verify", "-m", "workspace at session start");
}

/** Unified diff of the workspace against the baseline, new and deleted files included. */
export async function diffWorkspace(gitDir: string, workspace: string): Promise<string> {
  if (!existsSync(gitDir)) throw new AirlockError("unavailable", "no baseline for this workspace (git was missing when the session started)");
  const tmp = mkdtempSync(join(tmpdir(), "airlock-index-"));
  try {
    const env = { ...gitEnv(), GIT_INDEX_FILE: join(tmp, "index") };
    const git = (...args: string[]) => run("git", [`--git-dir=${gitDir}`, `--work-tree=${workspace}`, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
    await git("add", "-A");
    const { stdout } = await git("diff", "--cached", "--no-color", "--no-ext-diff", "HEAD");
    return stdout.length > maxDiffBytes ? stdout.slice(0, maxDiffBytes) + "\n[diff truncated]\n" : stdout;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
