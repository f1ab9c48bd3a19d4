/**
 * @module snapshot — a bounded picture of the workspace (path → size, times, inode, and the text or a hash of
 * small files) and the compare of two pictures into created / modified / deleted files.
 *
 * Agents such as Claude Code, OpenCode, Codex and Gemini edit files with their own tools, not through ACP's
 * `fs/*`: comparing pictures taken when a tool call or a turn ends is how their changes are seen. inotify is not
 * used: its watch count is a host-wide limit, it misses changes made while no watcher runs, and it is absent
 * in some sandboxes. A picture costs one `lstat` per file; files whose stat is unchanged are not read again.
 *
 * Bounds: folders that hold dependencies, caches and VCS data are skipped (`skippedFolders`); at most
 * `maxFiles` files are followed (in a stable, sorted order); only files up to `maxReadBytes` are ever read;
 * text is kept only for files up to `maxKeepFileBytes` and up to `maxKeptBytes` in all (the rest keep a hash).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readdirSync, readlinkSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { FileChangeKind } from "@airlock/protocol";

/** Folder names never descended into: dependencies, caches, VCS data. Big, generated, and not the agent's edits. */
export const skippedFolders: ReadonlySet<string> = new Set([
  ".git",
  ".hg",
  ".svn",
  "node_modules",
  ".venv",
  "__pycache__",
  ".pytest_cache",
  ".mypy_cache",
  ".ruff_cache",
  ".next",
  ".nuxt",
  ".turbo",
  ".cache",
  ".gradle",
]);

export interface SnapshotLimits {
  maxFiles: number;
  /** Files larger than this are compared by size and times only (never read). */
  maxReadBytes: number;
  /** Text files up to this size keep their text (to diff against). */
  maxKeepFileBytes: number;
  /** Total text kept. */
  maxKeptBytes: number;
}

/** Folders deeper than this are not descended into: a tree made to be absurdly deep cannot exhaust the stack. */
const maxDepth = 64;

export const defaultSnapshotLimits: SnapshotLimits = { maxFiles: 20_000, maxReadBytes: 1024 * 1024, maxKeepFileBytes: 128 * 1024, maxKeptBytes: 8 * 1024 * 1024 };

export interface Entry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** A symbolic link's target (links are not followed). */
  link?: string;
  /** The file's text, when small, text and within the budget. */
  text?: string;
  /** sha1 of the content of a file read but not kept (binary, or over the budget). */
  hash?: string;
  binary?: boolean;
}

export interface Snapshot {
  /** Workspace-relative path (with `/`) → entry. */
  entries: Map<string, Entry>;
  /** More files than `maxFiles`: some were not looked at. */
  truncated: boolean;
  keptBytes: number;
}

export interface Change {
  path: string;
  change: FileChangeKind;
  before?: Entry;
  after?: Entry;
}

/**
 * Takes a picture of `root`. Entries of `previous` whose stat is unchanged are reused as they are (nothing is
 * read again), which is what keeps a picture of a large, mostly unchanged workspace cheap.
 */
export function takeSnapshot(root: string, limits: SnapshotLimits, previous?: Snapshot): Snapshot {
  const entries = new Map<string, Entry>();
  const snapshot: Snapshot = { entries, truncated: false, keptBytes: 0 };
  const walk = (dir: string, prefix: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // gone meanwhile, or not readable
    }
    names.sort();
    for (const name of names) {
      if (entries.size >= limits.maxFiles) {
        snapshot.truncated = true;
        return;
      }
      const path = prefix + name;
      // Plain concatenation, not path.join: this runs once per file of the workspace on every compare.
      const full = dir + "/" + name;
      const st = lstatSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        if (skippedFolders.has(name)) continue;
        if (depth < maxDepth) walk(full, path + "/", depth + 1);
        else snapshot.truncated = true;
        continue;
      }
      const isLink = st.isSymbolicLink();
      if (!st.isFile() && !isLink) continue; // FIFOs, sockets, devices: nothing to diff
      const old = previous?.entries.get(path);
      if (old && old.size === st.size && old.mtimeMs === st.mtimeMs && old.ctimeMs === st.ctimeMs && old.ino === st.ino && (old.link !== undefined) === isLink) {
        // Unchanged: reused as it is, its kept text counted against the budget again (or dropped past it).
        if (old.text === undefined) entries.set(path, old);
        else if (snapshot.keptBytes + old.text.length <= limits.maxKeptBytes) {
          snapshot.keptBytes += old.text.length;
          entries.set(path, old);
        } else entries.set(path, forget(old));
        continue;
      }
      entries.set(path, describe(full, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino }, isLink, limits, snapshot));
    }
  };
  walk(root, "", 0);
  return snapshot;
}

/** Whether a snapshot looks at `path` at all (none of its folders is skipped). */
export function isFollowed(path: string): boolean {
  const parts = path.split("/");
  for (let i = 0; i < parts.length - 1; i++) if (skippedFolders.has(parts[i])) return false;
  return true;
}

/** An entry for one path now (after a write through `fs/write_text_file`), or undefined when it is gone. */
export function describePath(root: string, path: string, limits: SnapshotLimits, snapshot: Snapshot): Entry | undefined {
  const full = join(root, path);
  const st = lstatSync(full, { throwIfNoEntry: false });
  if (!st || !(st.isFile() || st.isSymbolicLink())) return undefined;
  return describe(full, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino }, st.isSymbolicLink(), limits, snapshot);
}

/**
 * What changed from `before` to `after`. A path missing from a truncated picture may only have fallen past the
 * file cap, so it counts as deleted only when `exists` says it is gone.
 */
export function compareSnapshots(before: Snapshot, after: Snapshot, exists: (path: string) => boolean): Change[] {
  const changes: Change[] = [];
  for (const [path, entry] of after.entries) {
    const old = before.entries.get(path);
    if (!old) changes.push({ path, change: "created", after: entry });
    else if (old !== entry && differs(old, entry)) changes.push({ path, change: "modified", before: old, after: entry });
  }
  for (const [path, old] of before.entries) {
    if (after.entries.has(path)) continue;
    if (after.truncated && exists(path)) continue;
    changes.push({ path, change: "deleted", before: old });
  }
  return changes;
}

function sameStat(a: Entry, b: { size: number; mtimeMs: number; ctimeMs: number; ino: number }): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

/** Whether the content differs, when both sides tell; else whatever the stat says (a touched big file counts). */
function differs(a: Entry, b: Entry): boolean {
  if (a.link !== undefined || b.link !== undefined) return a.link !== b.link;
  if (a.size !== b.size) return true;
  if (a.text !== undefined && b.text !== undefined) return a.text !== b.text;
  const ha = a.hash ?? (a.text !== undefined ? sha1(a.text) : undefined);
  const hb = b.hash ?? (b.text !== undefined ? sha1(b.text) : undefined);
  if (ha !== undefined && hb !== undefined) return ha !== hb;
  return !sameStat(a, b);
}

function forget(entry: Entry): Entry {
  const { text, ...rest } = entry;
  return text === undefined ? entry : { ...rest, hash: sha1(text) };
}

function describe(full: string, stat: { size: number; mtimeMs: number; ctimeMs: number; ino: number }, isLink: boolean, limits: SnapshotLimits, snapshot: Snapshot): Entry {
  if (isLink) {
    let link = "";
    try {
      link = readlinkSync(full);
    } catch {}
    return { ...stat, link };
  }
  if (stat.size > limits.maxReadBytes) return stat;
  const content = readSmall(full, limits.maxReadBytes);
  if (content === null) return stat;
  const binary = content.subarray(0, 8000).includes(0);
  if (!binary && content.length <= limits.maxKeepFileBytes && snapshot.keptBytes + content.length <= limits.maxKeptBytes) {
    snapshot.keptBytes += content.length;
    return { ...stat, text: content.toString("utf8") };
  }
  return { ...stat, hash: createHash("sha1").update(content).digest("hex"), ...(binary ? { binary: true } : {}) };
}

/** The content of a regular file of at most `max` bytes, or null (unreadable, swapped for something else, grown). */
function readSmall(full: string, max: number): Buffer | null {
  let fd: number;
  try {
    // O_NOFOLLOW and O_NONBLOCK: a symlink or a FIFO swapped in after the lstat is never followed or waited on.
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > max) return null;
    const buf = Buffer.allocUnsafe(st.size);
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, read);
      if (n <= 0) break;
      read += n;
    }
    return buf.subarray(0, read);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}
