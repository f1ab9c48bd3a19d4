/**
 * @module relay — runs the agent in its own process group, journals every message both ways, and answers
 * its `fs/*` and `terminal/*` requests inside the sandbox.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, writeSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import type { SandboxdConfig } from "@airlock/protocol";
import type { Journal } from "./journal.ts";
import { LocalError } from "./local-error.ts";
import { isLocalMethod, LocalMethods } from "./local-methods.ts";
import { LineSplitter } from "./lines.ts";
import { mib, watchDisk } from "./disk.ts";
import { Workspace } from "./paths.ts";
import { Services } from "./services.ts";
import { runSetupCommands, setupMarker } from "./setup-commands.ts";
import { defaultSnapshotLimits } from "./snapshot.ts";
import { killGroup, Terminals } from "./terminals.ts";
import { WorkspaceWatch } from "./workspace-watch.ts";

const stderrRecordChars = 8192;
const garbageChars = 4096;
/** How long to wait for the rest of stdout once the agent has exited (a leftover child may hold the pipe). */
const drainMs = 2000;

export const defaultLimits = { maxLineBytes: 16 * 1024 * 1024, maxDiffBytes: 256 * 1024, maxTerminalOutputBytes: 1024 * 1024 };

export type ExitInfo = { code: number | null; signal: string | null };

export class Relay {
  private proc: ChildProcess | null = null;
  private exitInfo: ExitInfo | null = null;
  private stopRequested = false;
  private exitSeq = 0;
  /** Why sandboxd itself ended the agent (a limit), for the exit record. */
  private endedFor: { reason: "disk_limit"; detail: string } | null = null;
  private stopDiskWatch: (() => void) | null = null;
  private readonly terminals: Terminals;
  private readonly local: LocalMethods;
  private readonly maxLineBytes: number;
  /** Setup commands and services run before the agent starts: messages for it wait in `queued` meanwhile. */
  private preparingNow = false;
  private readonly queued: string[] = [];
  private readonly prepareAbort = new AbortController();
  readonly services: Services | null;
  /** Null when change detection is off (`limits.maxWatchedFiles: 0`). */
  private readonly watch: WorkspaceWatch | null;
  /** JSON-RPC ids (as keys) of `session/prompt` requests the agent has not answered yet. */
  private readonly openPrompts = new Set<string>();
  /** ACP tool kinds of the tool calls under way, by id: a finished read or search changed nothing. */
  private readonly toolKinds = new Map<string, string>();
  readonly exited: Promise<void>;
  private resolveExited!: () => void;

  constructor(
    private readonly config: SandboxdConfig,
    private readonly journal: Journal,
    private readonly log: (msg: string) => void,
  ) {
    const limits = {
      maxLineBytes: config.limits?.maxLineBytes ?? defaultLimits.maxLineBytes,
      maxDiffBytes: config.limits?.maxDiffBytes ?? defaultLimits.maxDiffBytes,
      maxTerminalOutputBytes: config.limits?.maxTerminalOutputBytes ?? defaultLimits.maxTerminalOutputBytes,
    };
    const workspace = new Workspace(config.workspace.hostPath, config.workspace.sandboxPath);
    const journalFile = (change: { path: string; change: string; diff: string; truncated: boolean }) =>
      journal.append(
        "file",
        ',"path":' + JSON.stringify(change.path) + ',"change":"' + change.change + '","diff":' + JSON.stringify(change.diff) + (change.truncated ? ',"truncated":true' : ""),
      );
    const maxWatchedFiles = config.limits?.maxWatchedFiles ?? defaultSnapshotLimits.maxFiles;
    this.watch =
      maxWatchedFiles > 0
        ? new WorkspaceWatch(workspace.realRoot, {
            limits: { ...defaultSnapshotLimits, maxFiles: maxWatchedFiles, maxKeptBytes: config.limits?.maxKeptBytes ?? defaultSnapshotLimits.maxKeptBytes },
            maxDiffBytes: limits.maxDiffBytes,
            emit: journalFile,
            log,
          })
        : null;
    this.terminals = new Terminals({
      wrap: config.wrap,
      env: config.agent.env,
      workspace,
      defaultOutputByteLimit: limits.maxTerminalOutputBytes,
      events: {
        output: (id, data) => journal.append("terminal", ',"terminalId":' + JSON.stringify(id) + ',"stream":"output","data":' + JSON.stringify(data)),
        exit: (id, exitCode, signal) => {
          journal.append("terminal", ',"terminalId":' + JSON.stringify(id) + ',"stream":"exit","exitCode":' + JSON.stringify(exitCode) + ',"signal":' + JSON.stringify(signal));
          // A command the agent ran may have changed files.
          this.watch?.soon();
        },
      },
    });
    this.local = new LocalMethods(workspace, this.terminals, limits.maxDiffBytes, (change) => {
      journalFile(change);
      // One write, one record: the snapshot takes it in, so the next compare does not report it again.
      this.watch?.noteWrite(change.real);
    });
    this.maxLineBytes = limits.maxLineBytes;
    const services = config.setup?.services ?? [];
    this.services = services.length
      ? new Services(services, { wrap: config.wrap, env: config.agent.env, cwd: config.workspace.hostPath, stateDir: config.stateDir, journal, log })
      : null;
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }
  get running(): boolean {
    return this.proc !== null && this.exitInfo === null;
  }
  /** Setup commands or services are being prepared; the agent starts after them. */
  get preparing(): boolean {
    return this.preparingNow;
  }
  /** Every setup command has run in this sandbox (now or at an earlier start), or there are none. */
  get setupDone(): boolean {
    return !this.config.setup?.commands?.length || existsSync(setupMarker(this.config.stateDir));
  }
  /** Accepts messages for the agent: it runs, or will once the sandbox is prepared. */
  get accepting(): boolean {
    return (this.running || this.preparingNow) && !this.stopRequested;
  }
  /** A stop was asked for: nothing more is handed to the agent. */
  get stopping(): boolean {
    return this.stopRequested;
  }
  get exit(): ExitInfo | null {
    return this.exitInfo;
  }
  /** Seq of the `exit` record, 0 while the agent runs. */
  get exitRecordSeq(): number {
    return this.exitSeq;
  }

  /** Prepares the sandbox (setup commands, services) when the session has any, then starts the agent. */
  start(): void {
    const setup = this.config.setup;
    if (!setup?.commands?.length && !this.services) return this.spawnAgent();
    this.preparingNow = true;
    void this.prepare().catch((err) => {
      this.log(`preparing the sandbox: ${(err as Error).stack ?? err}`);
      this.prepareFailed(`preparing the sandbox failed: ${(err as Error).message}`, null, "");
    });
  }

  private async prepare(): Promise<void> {
    const signal = this.prepareAbort.signal;
    const inside = { wrap: this.config.wrap, env: this.config.agent.env, cwd: this.config.workspace.hostPath };
    const setup = await runSetupCommands({ ...inside, commands: this.config.setup?.commands ?? [], stateDir: this.config.stateDir, journal: this.journal, signal });
    if (this.stopRequested) return this.finishPrepare();
    if (!setup.ok) return this.prepareFailed(setup.message, setup.exitCode, setup.detail);
    if (this.services) {
      this.services.startAll();
      const problem = await this.services.waitReady(signal);
      if (this.stopRequested) return this.finishPrepare();
      if (problem) return this.prepareFailed(problem.message, null, problem.detail);
    }
    this.preparingNow = false;
    this.spawnAgent();
    for (const line of this.queued.splice(0)) this.write(line);
  }

  /** A stop arrived while preparing: nothing more starts. */
  private async finishPrepare(): Promise<void> {
    this.preparingNow = false;
    await this.services?.stopAll();
    this.finish({ code: null, signal: null });
  }

  private async prepareFailed(message: string, exitCode: number | null, detail: string): Promise<void> {
    this.journal.append("prepare_failed", ',"message":' + JSON.stringify(message) + ',"exitCode":' + JSON.stringify(exitCode) + ',"detail":' + JSON.stringify(detail));
    this.queued.length = 0;
    this.preparingNow = false;
    await this.services?.stopAll();
    this.finish({ code: null, signal: null });
  }

  private spawnAgent(): void {
    // The picture of the workspace as the agent finds it: what it changes is compared against it.
    this.watch?.start();
    const argv = [...this.config.wrap, ...this.config.agent.argv];
    let proc: ChildProcess;
    try {
      // env is exactly the configured one: nothing of sandboxd's own environment reaches the agent.
      proc = spawn(argv[0], argv.slice(1), { cwd: this.config.workspace.hostPath, env: this.config.agent.env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    } catch (err) {
      this.proc = null;
      this.journal.append("stderr", ',"data":' + JSON.stringify(`could not start the agent: ${(err as Error).message}\n`));
      this.finish({ code: 127, signal: null });
      return;
    }
    this.proc = proc;
    if (proc.pid !== undefined) {
      for (const file of this.config.cgroupProcs ?? []) {
        try {
          // r+: never create a file where a cgroup has gone.
          const fd = openSync(file, "r+");
          try {
            writeSync(fd, String(proc.pid));
          } finally {
            closeSync(fd);
          }
        } catch (err) {
          this.log(`could not add the agent to ${file}: ${(err as Error).message}`);
        }
      }
      this.journal.append("started", ',"pid":' + proc.pid);
      this.watchDisk(proc);
    }
    proc.stdin!.on("error", (err) => this.log(`agent stdin: ${err.message}`));

    const splitter = new LineSplitter(this.maxLineBytes, {
      line: (text) => this.onLine(text),
      oversize: (bytes, head) =>
        this.journal.append("garbage", ',"data":' + JSON.stringify(`[a line of ${bytes} bytes, over the limit of ${this.maxLineBytes}, was dropped] ${head}`)),
    });
    proc.stdout!.on("data", (chunk: Buffer) => splitter.push(chunk));

    const stderrDecoder = new StringDecoder("utf8");
    let stderr = "";
    let stderrScheduled = false;
    const flushStderr = () => {
      stderrScheduled = false;
      for (let i = 0; i < stderr.length; i += stderrRecordChars) this.journal.append("stderr", ',"data":' + JSON.stringify(stderr.slice(i, i + stderrRecordChars)));
      stderr = "";
    };
    proc.stderr!.on("data", (chunk: Buffer) => {
      stderr += stderrDecoder.write(chunk);
      if (!stderrScheduled) {
        stderrScheduled = true;
        setImmediate(flushStderr);
      }
    });

    let status: ExitInfo | null = null;
    let drainTimer: NodeJS.Timeout | null = null;
    const done = () => {
      if (this.exitInfo || !status) return;
      if (drainTimer) clearTimeout(drainTimer);
      splitter.end();
      stderr += stderrDecoder.end();
      flushStderr();
      proc.stdout!.destroy();
      proc.stderr!.destroy();
      this.finish(status);
    };
    proc.on("error", (err) => {
      if (proc.pid !== undefined) return this.log(`agent process: ${err.message}`);
      // A spawn failure (no such program): no exit event follows.
      stderr += `could not start the agent: ${err.message}\n`;
      status ??= { code: 127, signal: null };
      done();
    });
    proc.once("exit", (code, signal) => {
      status ??= { code, signal };
      // Nothing of the agent's group may outlive it; its stdout is read to the end (bounded wait).
      killGroup(proc, "SIGKILL");
      drainTimer = setTimeout(done, drainMs);
    });
    proc.once("close", (code, signal) => {
      status ??= { code, signal };
      done();
    });
  }

  /** Journals a message from the control plane (on disk before the agent can act on it), then hands it over. */
  send(message: unknown): number {
    if (!this.accepting) throw new Error(this.stopRequested ? "the agent is stopping" : "the agent is not running");
    const line = JSON.stringify(message);
    const msg = message as { id?: unknown; method?: unknown };
    if (msg.method === "session/prompt" && msg.id !== undefined && msg.id !== null) this.openPrompts.add(JSON.stringify(msg.id));
    // Before the agent runs, a message waits: it is journaled when it is written to the agent (0 = not yet).
    if (this.preparingNow) {
      this.queued.push(line);
      return 0;
    }
    return this.write(line);
  }

  private write(line: string): number {
    const seq = this.journal.append("client", ',"msg":' + line);
    this.journal.flush();
    this.proc!.stdin!.write(line + "\n");
    return seq;
  }

  /**
   * Closes the agent's stdin (ACP's "the client is done": agents exit on it, keeping what they save), SIGTERM
   * to its process group if it is still there after `eofGraceMs`, SIGKILL after `graceMs`; resolves once the
   * exit is journaled. stdin comes first because inside bubblewrap the agent runs in a session of its own: a
   * signal to the group reaches only bwrap, whose death takes the agent down with SIGKILL.
   */
  async stop(graceMs = 2000, eofGraceMs = Math.min(500, graceMs / 2)): Promise<void> {
    this.stopRequested = true;
    this.terminals.killAll();
    if (this.preparingNow) {
      this.prepareAbort.abort();
      await this.exited;
      return;
    }
    const services = this.services?.stopAll(graceMs);
    if (!this.running || !this.proc) {
      await services;
      return;
    }
    const proc = this.proc;
    proc.stdin!.end();
    const term = setTimeout(() => killGroup(proc, "SIGTERM"), eofGraceMs);
    const kill = setTimeout(() => killGroup(proc, "SIGKILL"), graceMs);
    await Promise.all([this.exited, services]);
    clearTimeout(term);
    clearTimeout(kill);
  }

  private onLine(raw: string): void {
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    let msg: any;
    try {
      msg = JSON.parse(line);
    } catch {
      msg = null;
    }
    if (msg === null || typeof msg !== "object" || Array.isArray(msg) || msg.jsonrpc !== "2.0") {
      if (line.trim() !== "") this.journal.append("garbage", ',"data":' + JSON.stringify(line.length > garbageChars ? line.slice(0, garbageChars) : line));
      return;
    }
    const isResponse = msg.method === undefined && msg.id !== undefined && msg.id !== null;
    // A turn's end: its changes are journaled before its answer, so they belong to the turn.
    if (isResponse && this.openPrompts.delete(JSON.stringify(msg.id))) this.watch?.check();
    this.journal.append("agent", ',"msg":' + line);
    if (msg.method === "session/update") this.onToolUpdate(msg.params?.update);
    if (typeof msg.method === "string" && msg.id !== undefined && msg.id !== null && isLocalMethod(msg.method)) void this.answer(msg.id, msg.method, msg.params);
  }

  private async answer(id: unknown, method: string, params: unknown): Promise<void> {
    let response: object;
    try {
      response = { jsonrpc: "2.0", id, result: await this.local.handle(method, params) };
    } catch (err) {
      if (!(err instanceof LocalError)) this.log(`${method} failed: ${(err as Error).stack ?? err}`);
      response = { jsonrpc: "2.0", id, error: LocalError.toJson(err) };
    }
    const line = JSON.stringify(response);
    this.journal.append("local", ',"msg":' + line);
    if (this.running && !this.stopRequested) this.proc!.stdin!.write(line + "\n");
  }

  /** With a disk limit: past it, the agent's whole group and its commands are killed, the reason journaled. */
  private watchDisk(proc: ChildProcess): void {
    const limit = this.config.diskLimit;
    if (!limit) return;
    this.stopDiskWatch = watchDisk(limit.paths, limit.bytes, limit.intervalMs ?? 10_000, (usage) => {
      if (this.exitInfo || this.stopRequested) return;
      const detail = `the sandbox uses ${mib(usage.bytes)} MiB of disk, over its limit of ${mib(limit.bytes)} MiB: the agent was stopped; free space in the workspace before it can start again`;
      this.log(detail);
      this.endedFor = { reason: "disk_limit", detail };
      this.terminals.killAll();
      killGroup(proc, "SIGKILL");
    });
  }

  /** A tool call that ends (completed or failed) may have changed files, unless its kind says it only reads. */
  private onToolUpdate(update: { sessionUpdate?: unknown; toolCallId?: unknown; kind?: unknown; status?: unknown } | undefined): void {
    if (!this.watch || !update || (update.sessionUpdate !== "tool_call" && update.sessionUpdate !== "tool_call_update")) return;
    const id = String(update.toolCallId);
    if (typeof update.kind === "string") {
      if (this.toolKinds.size >= maxToolKinds) this.toolKinds.delete(this.toolKinds.keys().next().value!);
      this.toolKinds.set(id, update.kind);
    }
    if (update.status !== "completed" && update.status !== "failed") return;
    const kind = this.toolKinds.get(id);
    this.toolKinds.delete(id);
    if (kind === undefined || !readOnlyKinds.has(kind)) this.watch.soon();
  }

  private finish(status: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = status;
    this.stopDiskWatch?.();
    this.terminals.killAll();
    // What the agent changed since its last tool call or turn (a crash mid-turn) is journaled before its exit.
    this.watch?.check();
    this.watch?.stop();
    // Services live as long as the agent: nothing of the sandbox keeps running past its relay's run.
    void this.services?.stopAll();
    const endedFor = this.endedFor ? ',"reason":"disk_limit","detail":' + JSON.stringify(this.endedFor.detail) : "";
    this.exitSeq = this.journal.append("exit", ',"code":' + JSON.stringify(status.code) + ',"signal":' + JSON.stringify(status.signal) + ',"requested":' + this.stopRequested + endedFor);
    this.journal.flush();
    this.resolveExited();
  }
}

/** Tool kinds (ACP `ToolKind`) that change no file: their end needs no compare (the turn's end still has one). */
const readOnlyKinds: ReadonlySet<string> = new Set(["read", "search", "think", "fetch"]);
/** Tool calls remembered at most (an agent that never finishes its tool calls must not grow the map). */
const maxToolKinds = 1000;
