/**
 * @module workspace — the workspace of an E2B sandbox seen from the control plane: seeding, a baseline for
 * diffs, confined reads, diffs. Reads run as the agent user (so they can never show more than the agent can
 * see) and are confined to /workspace with realpath, like the local provider's.
 */
import { randomUUID } from "node:crypto";
import { posix } from "node:path";
import type { Sandbox } from "e2b";
import { type WorkspaceDiff, type WorkspaceEntry, badRequest, notFound } from "@airlock/protocol";
import { type DiffJob, baselineLimits, defaultDiffLimits, diffResult, diffScriptSource } from "../diff/index.ts";
import { agentUser, baselineDir, privateDir, shellQuote, workspace } from "./layout.ts";

export async function seedFiles(sbx: Sandbox, files: Record<string, string>): Promise<void> {
  const entries = Object.entries(files).map(([path, data]) => {
    const target = posix.normalize(posix.join(workspace, path));
    if (!target.startsWith(workspace + "/")) throw badRequest(`workspace file ${path} is outside the workspace`);
    return { path: target, data };
  });
  // Batches keep each multipart upload modest.
  for (let i = 0; i < entries.length; i += 100) await sbx.files.write(entries.slice(i, i + 100), { user: agentUser });
}

export async function cloneInto(sbx: Sandbox, url: string): Promise<void> {
  await sbx.commands.run(`git clone --quiet -- ${shellQuote(url)} ${workspace}`, { user: agentUser, cwd: workspace, timeoutMs: 10 * 60_000 });
}

/** Runs the shared diff program (providers/diff) in the sandbox as root: the baseline is root's alone. */
async function runDiffProgram(sbx: Sandbox, job: DiffJob, shell: (command: string) => string): Promise<WorkspaceDiff> {
  const command = `node --input-type=module -e ${shellQuote(diffScriptSource())} ${shellQuote(JSON.stringify(job))}`;
  try {
    const r = await sbx.commands.run(shell(command), { user: "root", timeoutMs: job.limits.timeMs + 30_000 });
    return diffResult(r.exitCode, r.stdout, r.stderr);
  } catch (err) {
    const e = err as { exitCode?: number; stdout?: string; stderr?: string };
    if (typeof e?.exitCode !== "number") throw err;
    return diffResult(e.exitCode, e.stdout ?? "", e.stderr ?? "");
  }
}

/** Records the workspace as it is now (skipped when the image has no git: diffs then say so). */
export async function makeBaseline(sbx: Sandbox): Promise<void> {
  const skipped = JSON.stringify({ diff: "", truncated: false, notes: ["git is not installed in this sandbox"] });
  await runDiffProgram(sbx, { mode: "baseline", gitDir: baselineDir, workTree: workspace, limits: baselineLimits }, (command) => `command -v git >/dev/null || { echo '${skipped}'; exit 0; }\n${command}`);
}

export async function diffWorkspace(sbx: Sandbox): Promise<WorkspaceDiff> {
  const tmpDir = `${privateDir}/diff-${randomUUID()}`;
  return runDiffProgram(sbx, { mode: "diff", gitDir: baselineDir, workTree: workspace, tmpDir, limits: defaultDiffLimits }, (command) => `${command}\nrc=$?; rm -rf ${tmpDir}; exit $rc`);
}

/** Runs in the sandbox as the agent: `node -e SCRIPT <relative path>`, prints one JSON object. */
const readScript = `
const fs = require("fs"), path = require("path");
const root = ${JSON.stringify(workspace)}, rel = process.argv[1] || "";
const out = (v) => process.stdout.write(JSON.stringify(v));
const fail = (code, message) => out({ error: { code, message } });
const target = path.resolve(root, rel);
if (target !== root && !target.startsWith(root + "/")) return fail("bad_request", rel + " is outside the workspace");
if (!fs.existsSync(target)) return fail("not_found", "no file or folder " + (rel || "/") + " in the workspace");
const real = fs.realpathSync(target), realRoot = fs.realpathSync(root);
if (real !== realRoot && !real.startsWith(realRoot + "/")) return fail("bad_request", rel + " leads outside the workspace");
const relOut = path.relative(realRoot, real);
const st = fs.statSync(real);
if (st.isDirectory()) {
  const entries = fs.readdirSync(real).slice(0, 2000).map((name) => {
    const s = fs.lstatSync(path.join(real, name));
    const type = s.isSymbolicLink() ? "symlink" : s.isDirectory() ? "dir" : s.isFile() ? "file" : "other";
    return { name, type, size: s.isFile() ? s.size : 0 };
  });
  entries.sort((a, b) => (a.type === "dir") !== (b.type === "dir") ? (a.type === "dir" ? -1 : 1) : a.name.localeCompare(b.name));
  return out({ type: "dir", path: relOut, entries });
}
const max = 1024 * 1024, fd = fs.openSync(real, "r"), buf = Buffer.alloc(Math.min(st.size, max));
fs.readSync(fd, buf, 0, buf.length, 0);
const binary = buf.subarray(0, 8192).includes(0);
out({ type: "file", path: relOut, size: st.size, content: buf.toString(binary ? "base64" : "utf8"), encoding: binary ? "base64" : "utf8", truncated: st.size > max });
`;

export async function readWorkspace(sbx: Sandbox, rel: string): Promise<WorkspaceEntry> {
  const r = await sbx.commands.run(`node -e ${shellQuote(`(() => {${readScript}})()`)} ${shellQuote(rel)}`, { user: agentUser, cwd: workspace, timeoutMs: 60_000 });
  const parsed = JSON.parse(r.stdout) as WorkspaceEntry | { error: { code: string; message: string } };
  if ("error" in parsed) throw parsed.error.code === "not_found" ? notFound(parsed.error.message) : badRequest(parsed.error.message);
  return parsed;
}
