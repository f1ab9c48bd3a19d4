/**
 * @module fs-methods — the agent's `fs/read_text_file` and `fs/write_text_file`, answered in the sandbox.
 *
 * Files are opened by their real path with O_NOFOLLOW (a symlink swapped in after the check is refused) and
 * O_NONBLOCK (a FIFO planted in the workspace cannot block the relay), and must be regular files.
 */
import { closeSync, constants, fchownSync, fstatSync, lchownSync, mkdirSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { type FileChange, fileDiff } from "./file-diff.ts";
import { LocalError } from "./local-error.ts";
import type { Workspace } from "./paths.ts";

/** Largest answer to `fs/read_text_file`, and largest file read to compute a diff. */
export const maxReadBytes = 10 * 1024 * 1024;
const newline = 10;

export function readTextFile(ws: Workspace, params: { path?: unknown; line?: unknown; limit?: unknown }): { content: string } {
  const line = optionalCount(params.line, "line") ?? 1;
  const limit = optionalCount(params.limit, "limit");
  const { real } = ws.resolveExisting(params.path);
  const fd = openRegular(real, String(params.path));
  try {
    return { content: readLines(fd, line, limit, String(params.path)) };
  } finally {
    closeSync(fd);
  }
}

export function writeTextFile(ws: Workspace, params: { path?: unknown; content?: unknown }, maxDiffBytes: number): FileChange & { real: string } {
  if (typeof params.content !== "string") throw LocalError.invalidParams("content must be a string");
  const target = ws.resolveForWrite(params.path);
  const path = String(params.path);
  let before: string | null = "";
  if (target.existed) {
    const fd = openRegular(target.real, path);
    try {
      // A huge file is overwritten all the same; only its diff is skipped.
      before = fstatSync(fd).size > maxReadBytes ? null : readLines(fd, 1, null, path);
    } finally {
      closeSync(fd);
    }
  }
  const owner = process.getuid?.() === 0 ? ownerOf(dirname(target.missing[0] ?? target.real)) : null;
  for (const dir of target.missing) {
    try {
      mkdirSync(dir);
      if (owner) chownQuietly(dir, owner);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw LocalError.fromFs(err, path);
    }
  }
  let fd: number;
  try {
    fd = openSync(target.real, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
  } catch (err) {
    throw LocalError.fromFs(err, path);
  }
  try {
    if (!fstatSync(fd).isFile()) throw LocalError.invalidParams(`${path} is not a regular file`);
    // Files sandboxd makes belong to whoever owns the folder (the agent), not to sandboxd.
    if (!target.existed && owner) {
      try {
        fchownSync(fd, owner.uid, owner.gid);
      } catch {}
    }
    const buf = Buffer.from(params.content);
    let written = 0;
    while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written);
  } finally {
    closeSync(fd);
  }
  const change = target.existed ? "modified" : "created";
  // `real` is the file as the workspace snapshot names it (symlinked folders resolved): it is told about this write.
  return { path: target.relative, real: target.real, change, ...fileDiff(target.relative, change, before, params.content.length > maxReadBytes ? null : params.content, maxDiffBytes) };
}

function openRegular(real: string, path: string): number {
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw LocalError.fromFs(err, path);
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw LocalError.invalidParams(`${path} is not a regular file`);
  }
  return fd;
}

/**
 * Lines `line` .. `line + limit - 1` (1-based) joined by "\n", as `content.split("\n").slice(...).join("\n")`
 * would give, read in chunks so a large file with a small window costs only what it reads.
 */
function readLines(fd: number, line: number, limit: number | null, path: string): string {
  const buf = Buffer.allocUnsafe(1024 * 1024);
  const parts: Buffer[] = [];
  let size = 0;
  let current = 1;
  let position = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, position);
    if (n <= 0) break;
    position += n;
    let start = 0;
    if (current < line) {
      // Skip to the start of the first wanted line.
      while (current < line) {
        const nl = buf.indexOf(newline, start);
        if (nl < 0 || nl >= n) break;
        current++;
        start = nl + 1;
      }
      if (current < line) continue;
    }
    let end = n;
    if (limit !== null) {
      let last = start;
      while (current < line + limit) {
        const nl = buf.indexOf(newline, last);
        if (nl < 0 || nl >= n) break;
        current++;
        last = nl + 1;
      }
      // `limit` lines done: stop before the newline that ends the last one.
      if (current >= line + limit) end = last - 1;
    }
    if (end > start) {
      size += end - start;
      if (size > maxReadBytes) throw LocalError.invalidParams(`${path}: the answer would exceed ${maxReadBytes} bytes; read it in parts with line/limit`);
      parts.push(Buffer.from(buf.subarray(start, end)));
    }
    if (limit !== null && current >= line + limit) break;
  }
  return Buffer.concat(parts).toString("utf8");
}

function optionalCount(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw LocalError.invalidParams(`${name} must be a positive integer`);
  return value;
}

function ownerOf(path: string): { uid: number; gid: number } | null {
  try {
    const st = statSync(path);
    return { uid: st.uid, gid: st.gid };
  } catch {
    return null;
  }
}

function chownQuietly(path: string, owner: { uid: number; gid: number }): void {
  try {
    // lchown: never follow a symlink planted in the meantime.
    lchownSync(path, owner.uid, owner.gid);
  } catch {}
}
