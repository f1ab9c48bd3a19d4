/**
 * @module context — what the model is told about the project before it reads a line: the file tree (to a
 * bounded depth, dependency and VCS folders left closed), the package manifests, the head of the README and
 * `git status`.
 *
 * Made at the start of each prompt, but only rebuilt when something it depends on changed: a fingerprint of
 * the walked tree (paths, sizes, mtimes) and of git's state decides, and the text is cached in the sandbox's
 * private home. An unchanged project gives byte-identical text, so the system prompt stays in the LLM's
 * prompt cache across turns and across agent restarts.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { git } from "./git.ts";
import { renderTree, walk } from "./tools/walk.ts";

const treeDepth = 3;
const treeEntries = 300;
const manifestChars = 2000;
const readmeLines = 40;
const readmeChars = 3000;
const gitLines = 40;
const gitTimeoutMs = 3000;

/** Files that say what a project is and how it is built, in the order they are shown. */
const manifests = ["package.json", "pyproject.toml", "requirements.txt", "setup.py", "Cargo.toml", "go.mod", "Gemfile", "pom.xml", "build.gradle", "composer.json", "deno.json", "Makefile", "tsconfig.json"];
const readmes = ["README.md", "README", "README.rst", "README.txt", "readme.md"];

export interface ProjectContext {
  text: string;
  fingerprint: string;
  /** False when the cached text was still right. */
  regenerated: boolean;
}

export async function projectContext(root: string, cacheDir: string | null, force = false): Promise<ProjectContext> {
  const { entries, truncated } = await walk(root, { maxDepth: treeDepth, maxEntries: treeEntries });
  const git = await gitState(root, entries.some((e) => e.path === ".git"));
  const hash = createHash("sha256");
  for (const e of entries) hash.update(`${e.path}\0${e.type}\0${e.size}\0${e.mtimeMs}\n`);
  hash.update(`${truncated}\0${git}`);
  const fingerprint = hash.digest("hex");

  const cacheFile = cacheDir ? join(cacheDir, "context", `${createHash("sha256").update(root).digest("hex").slice(0, 16)}.json`) : null;
  if (!force && cacheFile) {
    try {
      const cached = JSON.parse(readFileSync(cacheFile, "utf8")) as { fingerprint?: string; text?: string };
      if (cached.fingerprint === fingerprint && typeof cached.text === "string") return { text: cached.text, fingerprint, regenerated: false };
    } catch {}
  }

  const parts = [`# Project context\n\nThe workspace is ${root}. This summary was made when the current prompt arrived; it is not updated while you work.`];
  const files = entries.filter((e) => e.path !== ".git");
  parts.push(
    files.length
      ? `## Files (to depth ${treeDepth}; "…" marks folders not opened)\n\n${fenced(`${renderTree(files)}${truncated ? `\n[… more than ${treeEntries} entries]` : ""}`)}`
      : "## Files\n\nThe workspace is empty.",
  );
  for (const name of manifests) {
    const text = await head(join(root, name), manifestChars, Infinity);
    if (text !== null) parts.push(`## ${name}\n\n${fenced(text)}`);
  }
  for (const name of readmes) {
    const text = await head(join(root, name), readmeChars, readmeLines);
    if (text === null) continue;
    parts.push(`## ${name} (first ${readmeLines} lines)\n\n${text}`);
    break;
  }
  if (git) parts.push(`## git status\n\n${fenced(git)}`);
  const text = parts.join("\n\n");

  if (cacheFile) {
    try {
      mkdirSync(join(cacheDir!, "context"), { recursive: true, mode: 0o700 });
      writeFileSync(`${cacheFile}.tmp`, JSON.stringify({ fingerprint, text }));
      renameSync(`${cacheFile}.tmp`, cacheFile);
    } catch {}
  }
  return { text, fingerprint, regenerated: true };
}

/**
 * `text` as a Markdown code block, so it reads as it is laid out (a file tree's indents, a manifest) wherever
 * Markdown is rendered (`/context` is shown to the user). The fence outruns any run of backticks inside.
 */
export function fenced(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}\n${text}\n${fence}`;
}

/** The start of a text file, or null when it is missing, not a file, or binary. */
async function head(path: string, maxChars: number, maxLines: number): Promise<string | null> {
  const file = await open(path, "r").catch(() => null);
  if (!file) return null;
  try {
    if (!(await file.stat()).isFile()) return null;
    const buf = Buffer.alloc(maxChars * 4);
    const { bytesRead } = await file.read(buf, 0, buf.length, 0);
    if (buf.subarray(0, Math.min(bytesRead, 4096)).includes(0)) return null;
    const whole = buf.toString("utf8", 0, bytesRead);
    const text = whole.split("\n").slice(0, maxLines).join("\n").slice(0, maxChars);
    const cut = bytesRead === buf.length || text.length < whole.length;
    return cut ? `${text.trimEnd()}\n[…]` : text.trimEnd();
  } finally {
    await file.close();
  }
}

/** `git status` (branch and changes), or "" outside a repository or without git. */
function gitState(root: string, isRepo: boolean): Promise<string> {
  if (!isRepo) return Promise.resolve("");
  return git(root, ["status", "--porcelain=v1", "--branch", "--untracked-files=normal"], { timeoutMs: gitTimeoutMs, maxBuffer: 1024 * 1024 }).then((stdout) => {
    if (stdout === null) return "";
    const lines = stdout.trimEnd().split("\n");
    return lines.length > gitLines ? `${lines.slice(0, gitLines).join("\n")}\n[… ${lines.length - gitLines} more]` : lines.join("\n");
  });
}
