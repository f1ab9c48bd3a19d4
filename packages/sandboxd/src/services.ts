/**
 * @module services — a session's background services: started inside the sandbox before the agent, kept
 * running beside it, stopped with it (the next start of the relay starts them again). Each one's output goes to
 * a bounded log file of its own in the relay's state folder (`services/NAME.log`, rotated once to `NAME.log.1`),
 * never into the journal: a dev server's chatter would drown the session's log. Starts, readiness and exits
 * are journaled as `service` records.
 */
import type { ChildProcess } from "node:child_process";
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { ServiceSpec } from "@airlock/protocol";
import { type InsideOptions, probe, spawnInside, stopGroup } from "./inside.ts";
import type { Journal } from "./journal.ts";

const defaultLogBytes = 1024 * 1024;
const defaultReadyTimeoutSec = 60;
const tailChars = 4096;

export type ServiceStatus = "starting" | "running" | "exited";

export interface ServiceState {
  name: string;
  command: string;
  readyPort: number | null;
  readyPath: string | null;
  status: ServiceStatus;
  exitCode: number | null;
  signal: string | null;
  startedAt: number | null;
  starts: number;
}

interface Running {
  spec: ServiceSpec;
  state: ServiceState;
  proc: ChildProcess | null;
  fd: number | null;
  bytes: number;
  exited: Promise<void>;
}

export class Services {
  private readonly services = new Map<string, Running>();
  private readonly dir: string;

  constructor(
    specs: ServiceSpec[],
    private readonly options: InsideOptions & { stateDir: string; journal: Journal; log: (msg: string) => void; logBytes?: number },
  ) {
    this.dir = join(options.stateDir, "services");
    for (const spec of specs) {
      this.services.set(spec.name, {
        spec,
        state: { name: spec.name, command: spec.command, readyPort: spec.readyPort ?? null, readyPath: spec.readyPath ?? null, status: "exited", exitCode: null, signal: null, startedAt: null, starts: 0 },
        proc: null,
        fd: null,
        bytes: 0,
        exited: Promise.resolve(),
      });
    }
  }

  get size(): number {
    return this.services.size;
  }

  list(): ServiceState[] {
    return [...this.services.values()].map((s) => ({ ...s.state }));
  }

  /** Starts every service; none is waited for (see waitReady). */
  startAll(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const s of this.services.values()) this.start(s);
  }

  /**
   * Waits until every service with a `readyPort` answers; null when all are ready, else why not (it exited, or
   * the time ran out), with the tail of its log.
   */
  async waitReady(signal: AbortSignal): Promise<{ message: string; detail: string } | null> {
    const results = await Promise.all([...this.services.values()].map((s) => this.readiness(s, signal)));
    return results.find((r) => r !== null) ?? null;
  }

  /** The last `lines` lines of a service's log (the rotated file first), or null for an unknown name. */
  tail(name: string, lines: number): { lines: string[]; truncated: boolean } | null {
    const s = this.services.get(name);
    if (!s) return null;
    const file = this.logPath(name);
    const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");
    const older = read(`${file}.1`);
    const all = (older + read(file)).split("\n");
    if (all.at(-1) === "") all.pop();
    const kept = all.slice(-lines);
    return { lines: kept, truncated: kept.length < all.length || older !== "" };
  }

  /** Stops every service (SIGTERM to its group, SIGKILL after the grace). */
  async stopAll(graceMs = 2000): Promise<void> {
    await Promise.all([...this.services.values()].map(async (s) => (s.proc ? stopGroup(s.proc, graceMs) : undefined)));
    await Promise.all([...this.services.values()].map((s) => s.exited));
  }

  private logPath(name: string): string {
    return join(this.dir, `${name}.log`);
  }

  private start(s: Running): void {
    const { journal } = this.options;
    const path = this.logPath(s.spec.name);
    s.fd = openSync(path, "a", 0o600);
    s.bytes = fstatSync(s.fd).size;
    // Counted across runs of the relay in this sandbox (a resume starts a new relay): kept beside the log.
    const countFile = join(this.dir, `${s.spec.name}.starts`);
    const starts = (Number(existsSync(countFile) ? readFileSync(countFile, "utf8") : "0") || 0) + 1;
    writeFileSync(countFile, String(starts));
    s.state = { ...s.state, status: "starting", exitCode: null, signal: null, startedAt: Date.now(), starts };
    this.write(s, `[airlock] starting: ${s.spec.command}\n`);
    journal.append("service", ',"name":' + JSON.stringify(s.spec.name) + ',"status":"starting"');
    let proc: ChildProcess;
    try {
      proc = spawnInside(this.options, s.spec.command);
    } catch (err) {
      this.write(s, `[airlock] could not start: ${(err as Error).message}\n`);
      this.exited(s, 127, null);
      return;
    }
    s.proc = proc;
    proc.stdout!.on("data", (chunk: Buffer) => this.write(s, chunk));
    proc.stderr!.on("data", (chunk: Buffer) => this.write(s, chunk));
    s.exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: string | null) => {
        if (done) return;
        done = true;
        this.exited(s, code, signal);
        resolve();
      };
      proc.once("error", (err) => {
        this.write(s, `[airlock] could not start: ${err.message}\n`);
        finish(127, null);
      });
      proc.once("exit", (code, signal) => setTimeout(() => finish(code, signal), 200));
      proc.once("close", (code, signal) => finish(code, signal));
    });
    // Without a port to wait for, a service counts as running once started.
    if (s.spec.readyPort === undefined) this.markRunning(s);
  }

  private markRunning(s: Running): void {
    if (s.state.status !== "starting") return;
    s.state.status = "running";
    this.options.journal.append("service", ',"name":' + JSON.stringify(s.spec.name) + ',"status":"running"');
  }

  private exited(s: Running, code: number | null, signal: string | null): void {
    s.state = { ...s.state, status: "exited", exitCode: code, signal };
    this.write(s, `[airlock] exited (${signal ? `signal ${signal}` : `code ${code}`})\n`);
    s.proc?.stdout?.destroy();
    s.proc?.stderr?.destroy();
    if (s.fd !== null) closeSync(s.fd);
    s.fd = null;
    this.options.journal.append("service", ',"name":' + JSON.stringify(s.spec.name) + ',"status":"exited","exitCode":' + JSON.stringify(code) + ',"signal":' + JSON.stringify(signal));
  }

  private async readiness(s: Running, signal: AbortSignal): Promise<{ message: string; detail: string } | null> {
    const port = s.spec.readyPort;
    if (port === undefined) return null;
    const timeoutSec = s.spec.readyTimeoutSec ?? defaultReadyTimeoutSec;
    const until = Date.now() + timeoutSec * 1000;
    const what = `port ${port}${s.spec.readyPath ? ` (GET ${s.spec.readyPath})` : ""}`;
    const tail = () => (this.tail(s.spec.name, 200)?.lines.join("\n") ?? "").slice(-tailChars);
    let delay = 100;
    while (!signal.aborted) {
      if (s.state.status === "exited") {
        const how = s.state.signal ? `signal ${s.state.signal}` : `code ${s.state.exitCode}`;
        return { message: `service "${s.spec.name}" exited (${how}) before it was ready on ${what}`, detail: tail() };
      }
      if (await probe(this.options, port, s.spec.readyPath)) {
        if (s.state.status === "starting") this.markRunning(s);
        return null;
      }
      if (Date.now() >= until) return { message: `service "${s.spec.name}" was not ready on ${what} within ${timeoutSec} s`, detail: tail() };
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 500);
    }
    return { message: "the services were stopped before they were ready", detail: "" };
  }

  /** Appends to the service's log, rotating it past the bound (one older file kept). */
  private write(s: Running, data: Buffer | string): void {
    if (s.fd === null) return;
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    try {
      writeSync(s.fd, buf);
      s.bytes += buf.length;
      const limit = this.options.logBytes ?? defaultLogBytes;
      if (s.bytes > limit / 2) {
        const path = this.logPath(s.spec.name);
        closeSync(s.fd);
        renameSync(path, `${path}.1`);
        s.fd = openSync(path, "a", 0o600);
        s.bytes = 0;
      }
    } catch (err) {
      this.options.log(`service ${s.spec.name} log: ${(err as Error).message}`);
    }
  }
}
