/**
 * @module files — envd's file services on a fake sandbox: `GET/POST /files` (download, multipart or
 * octet-stream upload) and the `filesystem.Filesystem` RPC (Stat, ListDir, MakeDir, Move, Remove).
 *
 * Relative paths resolve against the user's home, new files and folders belong to the requesting user, as
 * envd does. Operations run with the fake's own rights (no permission check as the user).
 */
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, posix } from "node:path";
import { ConnectError, readBody } from "./connect-rpc.ts";
import type { Vm, VmUser } from "./vm.ts";

const fileTypes = { file: "FILE_TYPE_FILE", dir: "FILE_TYPE_DIRECTORY", symlink: "FILE_TYPE_SYMLINK" } as const;

export function resolvePath(path: string | undefined, user: VmUser): string {
  if (!path) return user.home;
  if (path.startsWith("~/")) return posix.resolve(user.home, path.slice(2));
  return posix.resolve(user.home, path);
}

/** envd's EntryInfo in protobuf JSON. */
export function entryInfo(vm: Vm, sandboxPath: string): Record<string, unknown> | null {
  const host = vm.hostPath(sandboxPath).path;
  const st = lstatSync(host, { throwIfNoEntry: false });
  if (!st) return null;
  const type = st.isSymbolicLink() ? fileTypes.symlink : st.isDirectory() ? fileTypes.dir : fileTypes.file;
  return {
    name: basename(sandboxPath) || "/",
    type,
    path: sandboxPath,
    size: String(st.size),
    mode: st.mode & 0o777,
    permissions: permissions(st.mode, st.isDirectory(), st.isSymbolicLink()),
    owner: nameOf(vm, "etc/passwd", st.uid),
    group: nameOf(vm, "etc/group", st.gid),
    modifiedTime: st.mtime.toISOString(),
    ...(st.isSymbolicLink() ? { symlinkTarget: readlinkSync(host) } : {}),
  };
}

/** Creates the missing folders of `sandboxDir`, owned by `user`. */
function makeDirs(vm: Vm, sandboxDir: string, user: VmUser): void {
  const missing: string[] = [];
  for (let d = sandboxDir; d !== "/" && !existsSync(vm.hostPath(d).path); d = posix.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    const { path, writable } = vm.hostPath(d);
    if (!writable) throw new ConnectError("permission_denied", `'${d}' is on a read-only file system`);
    mkdirSync(path);
    own(path, user);
  }
}

function own(hostPath: string, user: VmUser): void {
  if (process.getuid?.() === 0) chownSync(hostPath, user.uid, user.gid);
}

function writeFile(vm: Vm, sandboxPath: string, data: Buffer, user: VmUser): Record<string, unknown> {
  makeDirs(vm, posix.dirname(sandboxPath), user);
  const { path, writable } = vm.hostPath(sandboxPath);
  if (!writable) throw new ConnectError("permission_denied", `'${sandboxPath}' is on a read-only file system`);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new ConnectError("invalid_argument", `path '${sandboxPath}' is a directory`);
  writeFileSync(path, data);
  own(path, user);
  return { path: sandboxPath, name: basename(sandboxPath), type: "file" };
}

// ---------------------------------------------------------------- HTTP /files

export async function downloadFile(vm: Vm, url: URL, user: VmUser, res: ServerResponse): Promise<void> {
  const path = resolvePath(url.searchParams.get("path") ?? undefined, user);
  const host = vm.hostPath(path).path;
  const st = statSync(host, { throwIfNoEntry: false });
  if (!st) return httpError(res, 404, `path '${path}' does not exist`);
  if (st.isDirectory()) return httpError(res, 400, `path '${path}' is a directory`);
  const data = readFileSync(host);
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": data.length });
  res.end(data);
}

export async function uploadFiles(vm: Vm, url: URL, user: VmUser, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const contentType = req.headers["content-type"] ?? "";
  const queryPath = url.searchParams.get("path") ?? undefined;
  const written: Array<Record<string, unknown>> = [];
  try {
    if (contentType.startsWith("application/octet-stream")) {
      if (!queryPath) return httpError(res, 400, "the 'path' query parameter is required for application/octet-stream uploads");
      written.push(writeFile(vm, resolvePath(queryPath, user), body, user));
    } else if (contentType.startsWith("multipart/form-data")) {
      const form = await new Response(new Uint8Array(body), { headers: { "content-type": contentType } }).formData();
      const files = form.getAll("file").filter((f): f is File => typeof f !== "string");
      if (files.length === 0) return httpError(res, 400, "no file in the upload");
      for (const file of files) {
        // One file with `?path=` goes there; several name their own paths in the part's filename.
        const target = files.length === 1 && queryPath ? queryPath : file.name;
        written.push(writeFile(vm, resolvePath(target, user), Buffer.from(await file.arrayBuffer()), user));
      }
    } else {
      return httpError(res, 400, `unsupported content type '${contentType}'`);
    }
  } catch (err) {
    if (err instanceof ConnectError) return httpError(res, err.code === "invalid_argument" ? 400 : 500, err.message);
    throw err;
  }
  const out = JSON.stringify(written);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
  res.end(out);
}

export function httpError(res: ServerResponse, code: number, message: string): void {
  const body = JSON.stringify({ code, message });
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

// ---------------------------------------------------------------- filesystem.Filesystem RPC

export function filesystemRpc(vm: Vm, method: string, msg: any, user: VmUser): unknown {
  switch (method) {
    case "Stat": {
      const path = resolvePath(msg.path, user);
      const entry = entryInfo(vm, path);
      if (!entry) throw new ConnectError("not_found", `no such file or directory: ${path}`);
      return { entry };
    }
    case "ListDir": {
      const path = resolvePath(msg.path, user);
      const host = vm.hostPath(path).path;
      const st = statSync(host, { throwIfNoEntry: false });
      if (!st) throw new ConnectError("not_found", `path '${path}' does not exist`);
      if (!st.isDirectory()) throw new ConnectError("invalid_argument", `path '${path}' is not a directory`);
      const entries: unknown[] = [];
      const walk = (dir: string, depth: number) => {
        for (const name of readdirSync(vm.hostPath(dir).path).sort()) {
          const child = posix.join(dir, name);
          const entry = entryInfo(vm, child);
          if (!entry) continue;
          entries.push(entry);
          if (depth > 1 && entry.type === fileTypes.dir) walk(child, depth - 1);
        }
      };
      walk(path, Math.max(1, Number(msg.depth ?? 1)));
      return { entries };
    }
    case "MakeDir": {
      const path = resolvePath(msg.path, user);
      if (existsSync(vm.hostPath(path).path)) throw new ConnectError("already_exists", `directory '${path}' already exists`);
      makeDirs(vm, path, user);
      return { entry: entryInfo(vm, path) };
    }
    case "Move": {
      const source = resolvePath(msg.source, user);
      const destination = resolvePath(msg.destination, user);
      const from = vm.hostPath(source);
      if (!existsSync(from.path)) throw new ConnectError("not_found", `path '${source}' does not exist`);
      makeDirs(vm, posix.dirname(destination), user);
      renameSync(from.path, vm.hostPath(destination).path);
      return { entry: entryInfo(vm, destination) };
    }
    case "Remove": {
      const path = resolvePath(msg.path, user);
      const { path: host, writable } = vm.hostPath(path);
      if (!existsSync(host)) throw new ConnectError("not_found", `path '${path}' does not exist`);
      if (!writable) throw new ConnectError("permission_denied", `'${path}' is on a read-only file system`);
      rmSync(host, { recursive: true, force: true });
      return {};
    }
    default:
      throw new ConnectError("unimplemented", `filesystem.Filesystem/${method} is not imitated by the fake`);
  }
}

function nameOf(vm: Vm, file: string, id: number): string {
  try {
    for (const line of readFileSync(vm.hostPath("/" + file).path, "utf8").split("\n")) {
      const parts = line.split(":");
      if (Number(parts[2]) === id && parts[0]) return parts[0];
    }
  } catch {}
  return String(id);
}

function permissions(mode: number, dir: boolean, link: boolean): string {
  const bits = "rwxrwxrwx";
  let out = link ? "L" : dir ? "d" : "-";
  for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? bits[i] : "-";
  return out;
}

