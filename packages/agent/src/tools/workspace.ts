/**
 * @module workspace — the one folder the tools may touch, and file access within it.
 *
 * Every path a model names is resolved against the session's folder and refused when it leads outside it —
 * by `..`, by an absolute path, or by a symlink inside pointing out. Reads and writes go through the client's
 * ACP `fs/*` methods when it offers them (so the client records and controls every change), else straight to
 * disk. Tools that touch the same file run one after the other; different files go in parallel.
 */
import { mkdir, readFile, realpath, stat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import * as acp from "@agentclientprotocol/sdk";
import type { AgentContext, ClientCapabilities } from "@agentclientprotocol/sdk";
import { describeRpcError as describe } from "@airlock/protocol/rpc-error";
import { ToolError } from "./tool.ts";

/** Largest file a tool reads whole (edit, write's diff, review). */
export const maxFileBytes = 4 * 1024 * 1024;

export class Workspace {
  readonly root: string;
  private realRoot: Promise<string>;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    root: string,
    private readonly sessionId: string,
    private readonly client: AgentContext | null,
    private readonly capabilities: ClientCapabilities,
  ) {
    this.root = resolve(root);
    this.realRoot = realpath(this.root).catch(() => this.root);
  }

  /** The absolute path of `path` (relative to the workspace, or absolute inside it), or a ToolError. */
  resolve(path: string): string {
    if (typeof path !== "string" || path === "" || path.includes("\0")) throw new ToolError("give a file path (relative to the workspace)");
    const absolute = isAbsolute(path) ? resolve(path) : resolve(this.root, path);
    if (!this.contains(this.root, absolute)) throw new ToolError(`${path} is outside the workspace (${this.root}); use a path inside it`);
    return absolute;
  }

  /** `absolute` as a path relative to the workspace ("." for the root). */
  relative(absolute: string): string {
    return relative(this.root, absolute) || ".";
  }

  /** Like `resolve`, and also refuses a path whose real location (symlinks followed) is outside. */
  async resolveReal(path: string): Promise<string> {
    const absolute = this.resolve(path);
    let existing = absolute;
    // The nearest part of the path that exists decides where it really leads.
    for (;;) {
      try {
        const real = await realpath(existing);
        if (!this.contains(await this.realRoot, real)) throw new ToolError(`${path} leads outside the workspace (through a symbolic link)`);
        return absolute;
      } catch (err) {
        if (err instanceof ToolError) throw err;
        const parent = dirname(existing);
        if (parent === existing) return absolute;
        existing = parent;
      }
    }
  }

  /** Lines `line`.. (1-based, `limit` of them) of a text file, or all of it. */
  async read(path: string, range: { line?: number; limit?: number } = {}): Promise<string> {
    const text = await this.load(path, range);
    if (text === null) throw new ToolError(`${this.relative(this.resolve(path))} does not exist`);
    return text;
  }

  /** The whole file, or null when it does not exist. */
  readIfExists(path: string): Promise<string | null> {
    return this.load(path, {});
  }

  /** One resolve and one stat for both: a read-before-write must not look the file up twice. */
  private async load(path: string, range: { line?: number; limit?: number }): Promise<string | null> {
    const absolute = await this.resolveReal(path);
    const st = await stat(absolute).catch(() => null);
    if (!st) return null;
    if (st.isDirectory()) throw new ToolError(`${this.relative(absolute)} is a folder; use list_files`);
    if (this.capabilities.fs?.readTextFile && this.client) {
      try {
        const { content } = await this.client.request(acp.methods.client.fs.readTextFile, { sessionId: this.sessionId, path: absolute, ...range });
        return content;
      } catch (err) {
        throw new ToolError(`could not read ${this.relative(absolute)}: ${describe(err)}`);
      }
    }
    if (st.size > maxFileBytes && !range.limit) throw new ToolError(`${this.relative(absolute)} is ${st.size} bytes; read it in parts with offset and limit`);
    const text = await readFile(absolute, "utf8");
    if (!range.line && !range.limit) return text;
    const start = (range.line ?? 1) - 1;
    return text.split("\n").slice(start, range.limit ? start + range.limit : undefined).join("\n");
  }

  async write(path: string, content: string): Promise<void> {
    const absolute = await this.resolveReal(path);
    if (this.capabilities.fs?.writeTextFile && this.client) {
      try {
        await this.client.request(acp.methods.client.fs.writeTextFile, { sessionId: this.sessionId, path: absolute, content });
        return;
      } catch (err) {
        throw new ToolError(`could not write ${this.relative(absolute)}: ${describe(err)}`);
      }
    }
    try {
      await mkdir(dirname(absolute), { recursive: true });
      await writeFile(absolute, content);
    } catch (err) {
      throw new ToolError(`could not write ${this.relative(absolute)}: ${(err as Error).message}`);
    }
  }

  /** Runs `fn` once every earlier call for the same file has finished. */
  async withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const key = this.resolve(path);
    const before = this.locks.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.catch(() => {});
    this.locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }

  private contains(root: string, path: string): boolean {
    return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
  }
}
