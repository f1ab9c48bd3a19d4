/**
 * @module walk — a bounded walk of a folder tree, breadth first (so a cut keeps the top levels whole), never
 * following symbolic links and never descending into dependency, build or VCS folders.
 */
import { accessSync, constants } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { delimiter, join } from "node:path";

/** Listed, but never descended into: they are big and rarely what a task is about. */
export const skippedDirs = new Set([".git", "node_modules", ".venv", "venv", "__pycache__", ".next", ".nuxt", "target", ".cache", ".turbo", ".gradle", "coverage", ".mypy_cache", ".pytest_cache"]);

export interface Entry {
  /** Relative to the walk's root, with "/" separators. */
  path: string;
  type: "dir" | "file" | "link" | "other";
  size: number;
  mtimeMs: number;
  depth: number;
  /** A folder the walk did not go into (skipped, or past the depth). */
  unlisted?: boolean;
}

export interface WalkOptions {
  maxDepth: number;
  maxEntries: number;
}

export async function walk(root: string, options: WalkOptions): Promise<{ entries: Entry[]; truncated: boolean }> {
  const entries: Entry[] = [];
  let level: string[] = [""];
  for (let depth = 1; level.length && depth <= options.maxDepth; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      let names: string[];
      try {
        names = (await readdir(join(root, dir))).sort();
      } catch {
        continue;
      }
      for (const name of names) {
        if (entries.length >= options.maxEntries) return { entries, truncated: true };
        const path = dir ? `${dir}/${name}` : name;
        const st = await lstat(join(root, path)).catch(() => null);
        if (!st) continue;
        const type = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "link" : "other";
        const entry: Entry = { path, type, size: st.size, mtimeMs: st.mtimeMs, depth };
        if (type === "dir") {
          if (skippedDirs.has(name) || depth === options.maxDepth) entry.unlisted = true;
          else next.push(path);
        }
        entries.push(entry);
      }
    }
    level = next;
  }
  return { entries, truncated: false };
}

/** The entries as an indented tree, folders with a trailing "/". */
export function renderTree(entries: Entry[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => {
      const name = e.path.slice(e.path.lastIndexOf("/") + 1);
      const suffix = e.type === "dir" ? `/${e.unlisted ? " …" : ""}` : e.type === "link" ? " @" : e.type === "file" ? ` (${size(e.size)})` : "";
      return `${"  ".repeat(e.depth - 1)}${name}${suffix}`;
    })
    .join("\n");
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The full path of an executable on PATH, or null. */
export function which(program: string, path = process.env.PATH ?? ""): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}
