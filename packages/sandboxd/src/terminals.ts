/**
 * @module terminals — the agent's `terminal/*` commands, run through the sandbox's wrap in their own
 * process groups, their output kept (last `outputByteLimit` bytes) and journaled in bounded chunks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { LocalError } from "./local-error.ts";
import type { Workspace } from "./paths.ts";

/** Characters per `terminal` output record. */
const recordChars = 32 * 1024;
/** Past this much output, a terminal's output is still kept for `terminal/output` but no longer journaled. */
const maxJournaledBytes = 32 * 1024 * 1024;
const maxOutputByteLimit = 64 * 1024 * 1024;
/** How long to wait for the last output after the command exits (a background child may hold the pipe). */
const drainMs = 500;

export interface TerminalEvents {
  output(terminalId: string, data: string): void;
  exit(terminalId: string, exitCode: number | null, signal: string | null): void;
}

export interface TerminalOptions {
  wrap: string[];
  env: Record<string, string>;
  workspace: Workspace;
  defaultOutputByteLimit: number;
  events: TerminalEvents;
}

type ExitStatus = { exitCode: number | null; signal: string | null };

interface Terminal {
  id: string;
  proc: ChildProcess;
  /** Output kept for `terminal/output`: whole chunks, the oldest dropped once the rest covers `limit`. */
  chunks: Buffer[];
  bytes: number;
  limit: number;
  truncated: boolean;
  exit: ExitStatus | null;
  exited: Promise<ExitStatus>;
}

export class Terminals {
  private readonly terminals = new Map<string, Terminal>();
  private next = 1;

  constructor(private readonly options: TerminalOptions) {}

  create(params: { command?: unknown; args?: unknown; env?: unknown; cwd?: unknown; outputByteLimit?: unknown }): { terminalId: string } {
    const { wrap, workspace } = this.options;
    if (typeof params.command !== "string" || params.command === "") throw LocalError.invalidParams("command must be a non-empty string");
    const args = params.args ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) throw LocalError.invalidParams("args must be an array of strings");
    const extra: Record<string, string> = {};
    if (params.env !== undefined && params.env !== null) {
      if (!Array.isArray(params.env)) throw LocalError.invalidParams("env must be an array of {name, value}");
      for (const v of params.env as Array<{ name?: unknown; value?: unknown }>) {
        if (typeof v?.name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.name) || typeof v.value !== "string") throw LocalError.invalidParams("env must be an array of {name, value} strings with valid names");
        extra[v.name] = v.value;
      }
    }
    // With a wrap, the programs that build the sandbox run on the host: the agent's variables (LD_PRELOAD,
    // NODE_OPTIONS, ...) must only reach the command, so they are set inside, by `env`, after the wrap.
    const env = wrap.length === 0 ? { ...this.options.env, ...extra } : { ...this.options.env };
    const limit = params.outputByteLimit ?? this.options.defaultOutputByteLimit;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) throw LocalError.invalidParams("outputByteLimit must be a non-negative integer");
    if (params.cwd !== undefined && params.cwd !== null && (typeof params.cwd !== "string" || !params.cwd.startsWith("/"))) throw LocalError.invalidParams("cwd must be an absolute path");
    const cwd = (params.cwd as string | null | undefined) ?? workspace.sandboxPath;

    // A command with no args that looks like a shell line ("npm test && ls") is what agents mean as one.
    let argv = args.length === 0 && /[\s;&|<>()$`'"*?~]/.test(params.command) ? ["sh", "-c", params.command] : [params.command, ...(args as string[])];
    let spawnCwd = workspace.hostPath;
    if (wrap.length === 0) {
      // sandboxd is inside the sandbox: the agent's cwd is a real folder here.
      spawnCwd = workspace.hostCwd(cwd);
      if (!statSync(spawnCwd, { throwIfNoEntry: false })?.isDirectory()) throw LocalError.invalidParams(`cwd ${cwd} is not a folder`);
    } else if (cwd !== workspace.sandboxPath) {
      // The wrap sets the workspace as cwd; change to the asked one inside the sandbox.
      argv = ["sh", "-c", 'cd -- "$1" || exit 127; shift; exec "$@"', "sh", cwd, ...argv];
    }

    const inside = wrap.length > 0 && Object.keys(extra).length > 0 ? ["env", ...Object.entries(extra).map(([k, v]) => `${k}=${v}`), ...argv] : argv;
    const full = [...wrap, ...inside];
    const proc = spawn(full[0], full.slice(1), { cwd: spawnCwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const id = `term_${this.next++}`;
    const t: Terminal = {
      id,
      proc,
      chunks: [],
      bytes: 0,
      limit: Math.min(limit, maxOutputByteLimit),
      truncated: false,
      exit: null,
      exited: null as unknown as Promise<ExitStatus>,
    };
    this.terminals.set(id, t);

    const decoders = [new StringDecoder("utf8"), new StringDecoder("utf8")];
    let pending = "";
    let journaled = 0;
    let scheduled = false;
    const flushOutput = () => {
      scheduled = false;
      if (!pending) return;
      let text = pending;
      pending = "";
      if (journaled >= maxJournaledBytes) return;
      journaled += text.length;
      if (journaled >= maxJournaledBytes) text += `\n[further output of this terminal is not journaled; terminal/output keeps the last ${t.limit} bytes]\n`;
      for (let i = 0; i < text.length; i += recordChars) this.options.events.output(id, text.slice(i, i + recordChars));
    };
    const onData = (stream: number) => (chunk: Buffer) => {
      this.keep(t, chunk);
      pending += decoders[stream].write(chunk);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flushOutput);
      }
    };
    proc.stdout!.on("data", onData(0));
    proc.stderr!.on("data", onData(1));

    t.exited = new Promise<ExitStatus>((resolve) => {
      let status: ExitStatus | null = null;
      let timer: NodeJS.Timeout | null = null;
      const finish = () => {
        if (t.exit || !status) return;
        if (timer) clearTimeout(timer);
        pending += decoders[0].end() + decoders[1].end();
        flushOutput();
        t.exit = status;
        this.options.events.exit(id, status.exitCode, status.signal);
        resolve(status);
      };
      proc.once("error", (err) => {
        this.keep(t, Buffer.from(`${err.message}\n`));
        pending += `${err.message}\n`;
        status ??= { exitCode: 127, signal: null };
        finish();
      });
      proc.once("exit", (code, signal) => {
        status ??= { exitCode: code, signal };
        timer = setTimeout(finish, drainMs);
      });
      proc.once("close", (code, signal) => {
        status ??= { exitCode: code, signal };
        finish();
      });
    });
    return { terminalId: id };
  }

  output(id: unknown): { output: string; truncated: boolean; exitStatus?: ExitStatus } {
    const t = this.get(id);
    let buf = t.chunks.length === 1 ? t.chunks[0] : Buffer.concat(t.chunks);
    let truncated = t.truncated;
    if (buf.length > t.limit) {
      let start = buf.length - t.limit;
      while (start < buf.length && (buf[start] & 0xc0) === 0x80) start++;
      buf = buf.subarray(start);
      truncated = true;
    }
    return { output: buf.toString("utf8"), truncated, ...(t.exit ? { exitStatus: t.exit } : {}) };
  }

  async waitForExit(id: unknown): Promise<ExitStatus> {
    return this.get(id).exited;
  }

  kill(id: unknown): Record<string, never> {
    const t = this.get(id);
    if (!t.exit) killGroup(t.proc, "SIGKILL");
    return {};
  }

  release(id: unknown): Record<string, never> {
    const t = this.get(id);
    if (!t.exit) killGroup(t.proc, "SIGKILL");
    this.terminals.delete(t.id);
    return {};
  }

  killAll(): void {
    for (const t of this.terminals.values()) if (!t.exit) killGroup(t.proc, "SIGKILL");
  }

  private keep(t: Terminal, chunk: Buffer): void {
    t.chunks.push(chunk);
    t.bytes += chunk.length;
    while (t.chunks.length > 0 && t.bytes - t.chunks[0].length >= t.limit) {
      t.bytes -= t.chunks.shift()!.length;
      t.truncated = true;
    }
    // Many tiny chunks (a command printing byte by byte): merge them so dropping the oldest stays cheap.
    if (t.chunks.length > 256) {
      let all = Buffer.concat(t.chunks);
      if (all.length > t.limit) {
        all = Buffer.from(all.subarray(all.length - t.limit));
        t.truncated = true;
      }
      t.chunks = [all];
      t.bytes = all.length;
    }
  }

  private get(id: unknown): Terminal {
    const t = typeof id === "string" ? this.terminals.get(id) : undefined;
    if (!t) throw LocalError.notFound(`unknown terminal ${String(id)}`);
    return t;
  }
}

/** Signals a child's whole process group (it was spawned detached, so it leads one). */
export function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {}
  }
}
