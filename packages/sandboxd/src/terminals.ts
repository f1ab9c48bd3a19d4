/**
 * @module terminals — the agent's `terminal/*` commands, run in the sandbox in their own process groups.
 */
import { type ChildProcess, spawn } from "node:child_process";

interface Terminal {
  id: string;
  proc: ChildProcess;
  output: string;
  limit: number;
  truncated: boolean;
  exit: { exitCode: number | null; signal: string | null } | null;
  exited: Promise<void>;
}

export interface TerminalEvents {
  output(terminalId: string, data: string): void;
  exit(terminalId: string, exitCode: number | null, signal: string | null): void;
}

export class Terminals {
  private readonly terminals = new Map<string, Terminal>();
  private next = 1;

  constructor(
    private readonly wrap: string[],
    private readonly env: Record<string, string>,
    private readonly cwd: string,
    private readonly defaultLimit: number,
    private readonly events: TerminalEvents,
  ) {}

  create(params: { command: string; args?: string[]; env?: Array<{ name: string; value: string }>; cwd?: string | null; outputByteLimit?: number | null }, sandboxCwd: string): { terminalId: string } {
    if (typeof params.command !== "string" || !params.command) throw new Error("command is required");
    const env = { ...this.env };
    for (const { name, value } of params.env ?? []) env[name] = value;
    let argv = [params.command, ...(params.args ?? [])];
    if (params.cwd && params.cwd !== sandboxCwd) argv = ["sh", "-c", 'cd "$0" && exec "$@"', params.cwd, ...argv];
    const full = [...this.wrap, ...argv];
    const proc = spawn(full[0], full.slice(1), { cwd: this.cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const id = `term_${this.next++}`;
    const t: Terminal = { id, proc, output: "", limit: params.outputByteLimit ?? this.defaultLimit, truncated: false, exit: null, exited: Promise.resolve() };
    let pending = "";
    let scheduled = false;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      t.output += text;
      if (Buffer.byteLength(t.output) > t.limit) {
        t.truncated = true;
        t.output = cutToBytes(t.output, t.limit);
      }
      pending += text;
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          for (let i = 0; i < pending.length; i += 65536) this.events.output(id, pending.slice(i, i + 65536));
          pending = "";
        });
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    t.exited = new Promise((resolve) => {
      proc.once("error", (err) => {
        onData(Buffer.from(`${err.message}\n`));
        t.exit = { exitCode: 127, signal: null };
        setImmediate(() => this.events.exit(id, 127, null));
        resolve();
      });
      proc.once("close", (code, signal) => {
        t.exit = { exitCode: code, signal };
        // after the last output record
        setImmediate(() => setImmediate(() => this.events.exit(id, code, signal)));
        resolve();
      });
    });
    this.terminals.set(id, t);
    return { terminalId: id };
  }

  output(id: string) {
    const t = this.get(id);
    return { output: t.output, truncated: t.truncated, ...(t.exit ? { exitStatus: t.exit } : {}) };
  }

  async waitForExit(id: string) {
    const t = this.get(id);
    await t.exited;
    return t.exit!;
  }

  kill(id: string): Record<string, never> {
    killGroup(this.get(id).proc, "SIGKILL");
    return {};
  }

  release(id: string): Record<string, never> {
    const t = this.get(id);
    if (!t.exit) killGroup(t.proc, "SIGKILL");
    this.terminals.delete(id);
    return {};
  }

  killAll(): void {
    for (const t of this.terminals.values()) if (!t.exit) killGroup(t.proc, "SIGKILL");
  }

  private get(id: string): Terminal {
    const t = this.terminals.get(id);
    if (!t) throw new Error(`unknown terminal ${id}`);
    return t;
  }
}

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

/** The last `limit` bytes of `text`, cut on a character boundary. */
function cutToBytes(text: string, limit: number): string {
  const buf = Buffer.from(text);
  let start = buf.length - limit;
  while (start < buf.length && (buf[start] & 0xc0) === 0x80) start++;
  return buf.subarray(start).toString("utf8");
}
