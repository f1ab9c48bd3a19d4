/**
 * @module workspace — the host side of a local sandbox's folders: writes that never follow a link out of
 * them (seed files, the agent's home files), confined reads for the API, and the `git clone` seed.
 *
 * These run as the server's user on folders the agent can change at any time, so a path is never trusted
 * by name: writes refuse (or replace) symbolic links on the way, reads check what was really opened.
 */
import { spawn } from "node:child_process";
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  opendirSync,
  readSync,
  readlinkSync,
  realpathSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join, relative, sep } from "node:path";
import { AirlockError, type WorkspaceEntry, badRequest, notFound } from "@airlock/protocol";

export const maxFileBytes = 1024 * 1024;
export const maxEntries = 2000;
/** Names read from one folder before sorting; bounds the work on a folder with millions of files. */
const maxNamesRead = 20_000;

/** The parts of a relative path; throws on an absolute path, `..`, or a NUL byte. "" gives []. */
export function relativeParts(path: string, what = "path"): string[] {
  if (path.startsWith("/") || path.includes("\0")) throw badRequest(`${what} ${JSON.stringify(path)} must be a relative path inside the folder`);
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw badRequest(`${what} ${JSON.stringify(path)} must not contain '..'`);
  return parts;
}

/**
 * Writes `content` at `root/rel`, creating folders on the way, and never through a symbolic link: with
 * `links: "refuse"` one on the way is an error (seeding a workspace); with `"replace"` the link itself is
 * removed and a real folder or file takes its place (the agent's home, which the agent may have changed).
 */
export function writeInside(root: string, rel: string, content: string, links: "refuse" | "replace", what = "file"): void {
  const parts = relativeParts(rel, what);
  if (parts.length === 0) throw badRequest(`${what} path must name a file`);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (st?.isDirectory()) continue;
    if (st) {
      if (links === "refuse") throw badRequest(`${what} ${rel}: ${relative(root, dir)} is ${st.isSymbolicLink() ? "a symbolic link" : "not a folder"}`);
      unlinkSync(dir);
    }
    mkdirSync(dir, { mode: 0o755 });
  }
  const target = join(dir, parts.at(-1)!);
  const st = lstatSync(target, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw badRequest(`${what} ${rel} is a folder`);
  if (st?.isSymbolicLink()) {
    if (links === "refuse") throw badRequest(`${what} ${rel} is a symbolic link`);
    unlinkSync(target);
  }
  // O_NOFOLLOW: a link made between the check and here fails the open instead of being followed.
  const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    const bytes = Buffer.from(content, "utf8");
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
  } finally {
    closeSync(fd);
  }
}

/** Seeds a fresh workspace with files; every path must stay inside it. */
export function seedFiles(workspace: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) writeInside(workspace, path, content, "refuse", "workspace file");
}

const inside = (root: string, path: string) => path === root || path.startsWith(root + sep);

/** A folder or file of the workspace, for the API: confined to it, bounded, never blocking on a FIFO. */
export function readWorkspace(workspace: string, path: string): WorkspaceEntry {
  const parts = relativeParts(path);
  const root = realpathSync(workspace);
  let real: string;
  try {
    real = realpathSync(join(root, ...parts));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw notFound(`no file or folder ${path || "/"} in the workspace`);
    throw badRequest(`${path} cannot be read: ${code}`);
  }
  if (!inside(root, real)) throw badRequest(`${path} leads outside the workspace`);
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO the agent made must not hang the server; O_NOFOLLOW: nor may a link swapped in.
    fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw badRequest(`${path} cannot be read: ${(err as NodeJS.ErrnoException).code}`);
  }
  try {
    // What was opened, not what was asked for: a folder on the way may have been swapped since realpath.
    const opened = readlinkSync(`/proc/self/fd/${fd}`);
    if (!inside(root, opened)) throw badRequest(`${path} leads outside the workspace`);
    const rel = relative(root, opened).split(sep).join("/");
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return { type: "dir", path: rel, entries: listFolder(`/proc/self/fd/${fd}`) };
    if (!stat.isFile()) throw badRequest(`${path} is not a regular file or folder`);
    const buf = Buffer.alloc(Math.min(stat.size, maxFileBytes));
    let length = 0;
    while (length < buf.length) {
      const n = readSync(fd, buf, length, buf.length - length, length);
      if (n === 0) break;
      length += n;
    }
    const data = buf.subarray(0, length);
    const text = asText(data, stat.size > length);
    return {
      type: "file",
      path: rel,
      size: stat.size,
      content: text ?? data.toString("base64"),
      encoding: text === null ? "base64" : "utf8",
      truncated: stat.size > length,
    };
  } finally {
    closeSync(fd);
  }
}

function listFolder(dirPath: string): Array<{ name: string; type: "file" | "dir" | "symlink" | "other"; size: number }> {
  const dir = opendirSync(dirPath);
  const entries: Array<{ name: string; type: "file" | "dir" | "symlink" | "other"; size: number }> = [];
  try {
    for (let d = dir.readSync(); d && entries.length < maxNamesRead; d = dir.readSync()) {
      entries.push({ name: d.name, type: d.isSymbolicLink() ? "symlink" : d.isDirectory() ? "dir" : d.isFile() ? "file" : "other", size: 0 });
    }
  } finally {
    dir.closeSync();
  }
  entries.sort((a, b) => ((a.type === "dir") !== (b.type === "dir") ? (a.type === "dir" ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const shown = entries.slice(0, maxEntries);
  for (const e of shown) if (e.type === "file") e.size = lstatSync(join(dirPath, e.name), { throwIfNoEntry: false })?.size ?? 0;
  return shown;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text when they are UTF-8 without NUL bytes; a cut multi-byte character at the end is allowed. */
function asText(data: Buffer, cut: boolean): string | null {
  if (data.subarray(0, 8192).includes(0)) return null;
  for (let drop = 0; drop <= (cut ? 3 : 0) && drop <= data.length; drop++) {
    try {
      return utf8.decode(data.subarray(0, data.length - drop));
    } catch {}
  }
  return null;
}

/**
 * Clones a repository into the (empty) workspace by running git inside the sandbox (`wrap`), so the clone
 * has the sandbox's network and file system: it cannot reach the host's loopback nor read host paths
 * through `file://`. Shallow, bounded in time.
 */
export function cloneRepository(wrap: string[], url: string, env: Record<string, string>, signal?: AbortSignal, timeoutMs = 300_000): Promise<void> {
  const argv = [...wrap, "git", "-c", "protocol.ext.allow=never", "-c", "advice.detachedHead=false", "clone", "--depth=1", "--quiet", "--", url, "."];
  return new Promise((resolve, reject) => {
    const proc = spawn(argv[0], argv.slice(1), { env: { ...env, GIT_TERMINAL_PROMPT: "0" }, stdio: ["ignore", "ignore", "pipe"], signal, timeout: timeoutMs, killSignal: "SIGKILL" });
    let stderr = "";
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    proc.on("error", (err) => reject(new AirlockError("bad_request", `could not clone ${url}: ${err.message}`)));
    proc.on("close", (code, sig) => {
      if (code === 0) resolve();
      else reject(new AirlockError("bad_request", `could not clone ${url}: ${stderr.trim() || (sig ? `stopped by ${sig} (over ${timeoutMs / 1000} s?)` : `git exited with ${code}`)}`));
    });
  });
}
