/**
 * @module commands — runs a program for `run_command` and `execute_code`: through the client's ACP
 * `terminal/*` methods when it offers them (the client runs it, records it and streams its output to whoever
 * watches), else as a child process here whose output streams into the tool call.
 *
 * Either way a command has a timeout, is killed (its whole process group) on timeout or cancel, and keeps only
 * the last `keepBytes` of its output.
 */
import { spawn } from "node:child_process";
import * as acp from "@agentclientprotocol/sdk";
import type { AgentContext, ClientCapabilities, ToolCallContent } from "@agentclientprotocol/sdk";
import { ToolError, clip } from "./tool.ts";
import { describeRpcError as describe } from "@airlock/protocol/rpc-error";

export interface CommandRequest {
  command: string;
  args: string[];
  cwd: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Called once the command runs, with what the client should show for it (its terminal, or live output). */
  started(content: ToolCallContent[]): Promise<void>;
  /** Local runs: the output so far, at most every `progressMs`. */
  progress(output: string): Promise<void>;
}

export interface CommandResult {
  output: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  /** Output beyond `keepBytes` was dropped from the start. */
  truncated: boolean;
}

const keepBytes = 256 * 1024;
const progressMs = 250;

export class Commands {
  constructor(
    private readonly sessionId: string,
    private readonly client: AgentContext | null,
    private readonly capabilities: ClientCapabilities,
  ) {}

  /** Whether commands run in the client's terminals (else here). */
  get viaClient(): boolean {
    return Boolean(this.capabilities.terminal && this.client);
  }

  run(request: CommandRequest): Promise<CommandResult> {
    return this.viaClient ? this.runInTerminal(request) : this.runHere(request);
  }

  private async runInTerminal(r: CommandRequest): Promise<CommandResult> {
    const client = this.client!;
    const sessionId = this.sessionId;
    let terminalId: string;
    try {
      ({ terminalId } = await client.request(acp.methods.client.terminal.create, { sessionId, command: r.command, args: r.args, cwd: r.cwd, outputByteLimit: keepBytes }));
    } catch (err) {
      throw new ToolError(`could not start ${r.command}: ${describe(err)}`);
    }
    const ids: acp.TerminalOutputRequest = { sessionId, terminalId };
    try {
      await r.started([{ type: "terminal", terminalId }]);
      const ended = await raceTimeout(client.request(acp.methods.client.terminal.waitForExit, ids), r.timeoutMs, r.signal);
      if (ended === "timeout" || ended === "cancelled") await client.request(acp.methods.client.terminal.kill, ids).catch(() => {});
      const exit = typeof ended === "object" ? ended : await withDeadline(client.request(acp.methods.client.terminal.waitForExit, ids), 2000).catch(() => null);
      const { output, truncated } = await client.request(acp.methods.client.terminal.output, ids);
      return { output, truncated, exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null, timedOut: ended === "timeout", cancelled: ended === "cancelled" };
    } finally {
      void client.request(acp.methods.client.terminal.release, ids).catch(() => {});
    }
  }

  private runHere(r: CommandRequest): Promise<CommandResult> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(r.command, r.args, { cwd: r.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      const chunks: Buffer[] = [];
      let bytes = 0;
      let truncated = false;
      let timedOut = false;
      let cancelled = false;
      let lastProgress = 0;
      let pending: NodeJS.Timeout | undefined;
      const text = () => Buffer.concat(chunks).toString("utf8");
      const kill = () => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {}
      };
      const flush = () => {
        pending = undefined;
        lastProgress = Date.now();
        void r.progress(text()).catch(() => {});
      };
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        bytes += chunk.length;
        while (bytes - chunks[0].length >= keepBytes) {
          bytes -= chunks.shift()!.length;
          truncated = true;
        }
        if (!pending) pending = setTimeout(flush, Math.max(0, progressMs - (Date.now() - lastProgress)));
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      const timer = setTimeout(() => ((timedOut = true), kill()), r.timeoutMs);
      const onAbort = () => ((cancelled = true), kill());
      r.signal.addEventListener("abort", onAbort, { once: true });
      child.once("error", (err) => {
        clearTimeout(timer);
        r.signal.removeEventListener("abort", onAbort);
        reject(new ToolError(`could not start ${r.command}: ${err.message}`));
      });
      child.once("spawn", () => void r.started([]).catch(() => {}));
      child.once("close", (exitCode, signal) => {
        clearTimeout(timer);
        clearTimeout(pending);
        r.signal.removeEventListener("abort", onAbort);
        resolvePromise({ output: text(), exitCode, signal, timedOut, cancelled, truncated });
      });
    });
  }
}

/** The promise's value, or "timeout" after `ms`, or "cancelled" when `signal` aborts. */
function raceTimeout<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T | "timeout" | "cancelled"> {
  if (signal.aborted) return Promise.resolve("cancelled");
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => finish("timeout"), ms);
    const onAbort = () => finish("cancelled");
    signal.addEventListener("abort", onAbort, { once: true });
    function finish(value: T | "timeout" | "cancelled") {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolvePromise(value);
    }
    promise.then(finish, (err) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      reject(err);
    });
  });
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolvePromise(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

/** The result as the model reads it: output (head and tail when long) and how it ended. */
export function describeResult(r: CommandResult, timeoutMs: number, maxChars: number): string {
  const how = r.cancelled
    ? "cancelled by the user"
    : r.timedOut
      ? `timed out after ${Math.round(timeoutMs / 1000)} s and was killed`
      : r.exitCode !== null
        ? `exit code ${r.exitCode}`
        : `killed by ${r.signal ?? "a signal"}`;
  const output = clip(r.output, maxChars);
  return `${output ? `${output}${output.endsWith("\n") ? "" : "\n"}` : "(no output)\n"}${r.truncated ? "(only the last 256 KB of output were kept)\n" : ""}[${how}]`;
}
