/**
 * @module relay — runs the agent, journals every message both ways, and answers its `fs/*` and `terminal/*`
 * requests inside the sandbox.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import type { SandboxdConfig } from "@airlock/protocol";
import { readTextFile, writeTextFile } from "./fs-methods.ts";
import type { Journal } from "./journal.ts";
import { Workspace } from "./paths.ts";
import { Terminals, killGroup } from "./terminals.ts";

const stderrChunkBytes = 8192;

export class Relay {
  private proc: ChildProcess | null = null;
  private exitInfo: { code: number | null; signal: string | null } | null = null;
  private stopRequested = false;
  private exitSeq = 0;
  private readonly workspace: Workspace;
  private readonly terminals: Terminals;
  private readonly maxLineBytes: number;
  private readonly maxDiffBytes: number;
  readonly exited: Promise<void>;
  private resolveExited!: () => void;

  constructor(
    private readonly config: SandboxdConfig,
    private readonly journal: Journal,
    private readonly log: (msg: string) => void,
  ) {
    this.workspace = new Workspace(config.workspace.hostPath, config.workspace.sandboxPath);
    this.maxLineBytes = config.limits?.maxLineBytes ?? 16 * 1024 * 1024;
    this.maxDiffBytes = config.limits?.maxDiffBytes ?? 256 * 1024;
    this.terminals = new Terminals(config.wrap, config.agent.env, config.workspace.hostPath, config.limits?.maxTerminalOutputBytes ?? 1024 * 1024, {
      output: (terminalId, data) => journal.append("terminal", `,"terminalId":${JSON.stringify(terminalId)},"stream":"output","data":${JSON.stringify(data)}`),
      exit: (terminalId, exitCode, signal) =>
        journal.append("terminal", `,"terminalId":${JSON.stringify(terminalId)},"stream":"exit","exitCode":${JSON.stringify(exitCode)},"signal":${JSON.stringify(signal)}`),
    });
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }
  get running(): boolean {
    return this.proc !== null && this.exitInfo === null;
  }
  get exit() {
    return this.exitInfo;
  }
  get exitRecordSeq(): number {
    return this.exitSeq;
  }

  start(): void {
    const argv = [...this.config.wrap, ...this.config.agent.argv];
    const proc = spawn(argv[0], argv.slice(1), {
      cwd: this.config.workspace.hostPath,
      env: this.config.agent.env,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.proc = proc;
    for (const file of this.config.cgroupProcs ?? []) {
      try {
        if (proc.pid) appendFileSync(file, String(proc.pid));
      } catch (err) {
        this.log(`could not add the agent to ${file}: ${(err as Error).message}`);
      }
    }
    proc.stdin!.on("error", (err) => this.log(`agent stdin: ${err.message}`));
    proc.once("spawn", () => this.journal.append("started", `,"pid":${proc.pid}`));
    proc.once("error", (err) => {
      this.journal.append("stderr", `,"data":${JSON.stringify(`could not start the agent: ${err.message}\n`)}`);
      this.onExit(127, null);
    });

    let carry = "";
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (chunk: string) => {
      const text = carry + chunk;
      let start = 0;
      let nl: number;
      while ((nl = text.indexOf("\n", start)) >= 0) {
        this.onLine(text.slice(start, nl));
        start = nl + 1;
      }
      carry = text.slice(start);
      if (carry.length > this.maxLineBytes) {
        this.journal.append("garbage", `,"data":${JSON.stringify(`line over ${this.maxLineBytes} bytes dropped: ${carry.slice(0, 200)}`)}`);
        carry = "";
      }
    });
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (chunk: string) => {
      for (let i = 0; i < chunk.length; i += stderrChunkBytes) this.journal.append("stderr", `,"data":${JSON.stringify(chunk.slice(i, i + stderrChunkBytes))}`);
    });
    proc.once("close", (code, signal) => {
      if (carry.trim()) this.onLine(carry);
      this.onExit(code, signal);
    });
  }

  /** Journals a message from the control plane, then hands it to the agent. */
  send(message: unknown): number {
    if (!this.running) throw new Error("the agent is not running");
    const line = JSON.stringify(message);
    const seq = this.journal.append("client", `,"msg":${line}`);
    this.proc!.stdin!.write(line + "\n");
    return seq;
  }

  /** SIGTERM to the agent's process group, SIGKILL after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopRequested = true;
    this.terminals.killAll();
    if (!this.running || !this.proc) return;
    killGroup(this.proc, "SIGTERM");
    const timer = setTimeout(() => this.proc && killGroup(this.proc, "SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private onLine(raw: string): void {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") return;
    let msg: any;
    try {
      msg = JSON.parse(line);
    } catch {
      msg = null;
    }
    if (!msg || typeof msg !== "object" || Array.isArray(msg) || msg.jsonrpc !== "2.0") {
      this.journal.append("garbage", `,"data":${JSON.stringify(line.slice(0, 4096))}`);
      return;
    }
    this.journal.append("agent", `,"msg":${line}`);
    if (typeof msg.method === "string" && msg.id !== undefined && (msg.method.startsWith("fs/") || msg.method.startsWith("terminal/"))) {
      void this.answerLocally(msg.id, msg.method, msg.params ?? {});
    }
  }

  private async answerLocally(id: unknown, method: string, params: any): Promise<void> {
    let response: Record<string, unknown>;
    try {
      response = { jsonrpc: "2.0", id, result: await this.handle(method, params) };
    } catch (err) {
      const code = (err as { code?: number }).code === -32601 ? -32601 : -32603;
      response = { jsonrpc: "2.0", id, error: { code, message: (err as Error).message } };
    }
    const line = JSON.stringify(response);
    this.journal.append("local", `,"msg":${line}`);
    if (this.running) this.proc!.stdin!.write(line + "\n");
  }

  private async handle(method: string, params: any): Promise<unknown> {
    const cwd = this.config.workspace.sandboxPath;
    switch (method) {
      case "fs/read_text_file":
        return readTextFile(this.workspace, params);
      case "fs/write_text_file": {
        const change = writeTextFile(this.workspace, params, this.maxDiffBytes);
        this.journal.append(
          "file",
          `,"path":${JSON.stringify(change.path)},"change":"${change.change}","diff":${JSON.stringify(change.diff)}${change.truncated ? ',"truncated":true' : ""}`,
        );
        return {};
      }
      case "terminal/create":
        return this.terminals.create(params, cwd);
      case "terminal/output":
        return this.terminals.output(params.terminalId);
      case "terminal/wait_for_exit":
        return this.terminals.waitForExit(params.terminalId);
      case "terminal/kill":
        return this.terminals.kill(params.terminalId);
      case "terminal/release":
        return this.terminals.release(params.terminalId);
      default:
        throw Object.assign(new Error(`method not found: ${method}`), { code: -32601 });
    }
  }

  private onExit(code: number | null, signal: string | null): void {
    if (this.exitInfo) return;
    this.exitInfo = { code, signal };
    this.terminals.killAll();
    this.exitSeq = this.journal.append("exit", `,"code":${JSON.stringify(code)},"signal":${JSON.stringify(signal)},"requested":${this.stopRequested}`);
    this.journal.flush();
    this.resolveExited();
  }
}
