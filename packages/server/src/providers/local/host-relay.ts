/**
 * @module host-relay — the one sandboxd process that relays for all local sandboxes of this installation
 * (`sandboxd --host DIR`). Each sandbox keeps its own journal, socket, token and state file; what they share
 * is the process: at a steady rate a relay wakes once per event, and one warm process does that for far less
 * CPU than a process per sandbox, in one heap instead of ~45 MB each.
 *
 * The host's folder is keyed by the relay bundle's content, so an upgraded Airlock starts a host of its own
 * version while the old one keeps serving the sandboxes it has. Like any relay it outlives the control plane:
 * a restarted server finds it by `host.json` (pid checked against its command line) and its token file.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AirlockError } from "@airlock/protocol";
import { alive, cmdline } from "./host.ts";
import { spawnRelay } from "./sandboxd.ts";

const startTimeoutMs = 10_000;
/** Unix socket paths are limited to 107 bytes. */
const maxSocketPath = 100;

export class HostRelay {
  readonly dir: string;
  private starting: Promise<void> | null = null;

  constructor(dataDir: string, private readonly sandboxdPath: string) {
    const version = createHash("sha256").update(readFileSync(sandboxdPath)).digest("hex").slice(0, 12);
    const dir = join(dataDir, "relay-host", version);
    this.dir = join(dir, "host.sock").length > maxSocketPath ? join(tmpdir(), `airlock-relay-${createHash("sha256").update(dir).digest("hex").slice(0, 12)}`) : dir;
  }

  /** The host's pid when it runs (checked by its command line), else null. */
  pid(): number | null {
    try {
      const { pid } = JSON.parse(readFileSync(join(this.dir, "host.json"), "utf8")) as { pid: number };
      return alive(pid) && this.owns(pid) ? pid : null;
    } catch {
      return null;
    }
  }

  /** True when `pid` is this host relay (a recycled pid must never be taken for it). */
  owns(pid: number): boolean {
    const cmd = cmdline(pid);
    return cmd.includes(" --host ") && cmd.includes(this.dir);
  }

  /** Starts the sandbox whose sandboxd config is at `configPath`; resolves once it listens. */
  async add(configPath: string, signal?: AbortSignal): Promise<void> {
    await this.running(signal);
    const res = await this.request("POST", "/sessions", { config: configPath }, startTimeoutMs).catch(async (err) => {
      // The host ended between our look and our request (its last sandbox had just gone): once more.
      this.starting = null;
      await this.running(signal);
      if (signal?.aborted) throw err;
      return this.request("POST", "/sessions", { config: configPath }, startTimeoutMs);
    });
    if (res.status !== 200) throw new AirlockError("unavailable", `the host relay refused the sandbox: ${res.body}`);
  }

  /** A host that answers, started when none does (concurrent callers share one start). */
  private running(signal?: AbortSignal): Promise<void> {
    this.starting ??= this.ensure(signal).finally(() => (this.starting = null));
    return this.starting;
  }

  private async ensure(signal?: AbortSignal): Promise<void> {
    if (await this.answers(3000)) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Several nodes share a data folder: one of them starts the host, the others wait for it. Two hosts started
    // at once would overwrite each other's token and pid, and the loser's node would wait for a host that is gone.
    const until = Date.now() + startTimeoutMs;
    for (let wait = 5; !this.lock(); wait = Math.min(wait * 2, 100)) {
      if (signal?.aborted) throw new AirlockError("unavailable", "the host relay's start was cancelled");
      if (await this.answers(1000)) return;
      if (Date.now() > until) throw new AirlockError("unavailable", `another Airlock process did not start the host relay within ${startTimeoutMs / 1000} s; its log ends with:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, wait));
    }
    try {
      if (await this.answers(1000)) return;
      writeFileSync(join(this.dir, "host.token"), randomBytes(32).toString("hex"), { mode: 0o600 });
      const child = spawnRelay(this.sandboxdPath, ["--host", this.dir], this.dir);
      for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
        if (signal?.aborted) throw new AirlockError("unavailable", "the host relay's start was cancelled");
        if (child.exitCode !== null || child.signalCode !== null) throw new AirlockError("unavailable", `the host relay exited at start (${child.signalCode ?? child.exitCode}); its log ends with:\n${this.logTail()}`);
        if (this.pid() === child.pid && (await this.answers(1000))) return;
        if (Date.now() > until) throw new AirlockError("unavailable", `the host relay did not start within ${startTimeoutMs / 1000} s; its log ends with:\n${this.logTail()}`);
        await new Promise((r) => setTimeout(r, wait));
      }
    } finally {
      rmSync(this.lockPath, { force: true });
    }
  }

  private async answers(timeoutMs: number): Promise<boolean> {
    return this.pid() !== null && (await this.request("GET", "/health", undefined, timeoutMs).then((r) => r.status === 200, () => false));
  }

  private get lockPath(): string {
    return join(this.dir, "start.lock");
  }

  /** Takes the right to start the host (a file made exclusively, naming our pid); a dead holder's lock is taken over. */
  private lock(): boolean {
    try {
      writeFileSync(this.lockPath, String(process.pid), { flag: "wx", mode: 0o600 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let holder = 0;
    let age = 0;
    try {
      holder = Number(readFileSync(this.lockPath, "utf8") || 0);
      age = Date.now() - statSync(this.lockPath).mtimeMs;
    } catch {
      return false; // released meanwhile: the next try takes it
    }
    if (holder > 0 && alive(holder) && age < 2 * startTimeoutMs) return false;
    // The holder died while starting the host (or its pid lives on in another process, long after): its lock
    // goes, and the next try takes it (exclusively, as above).
    rmSync(this.lockPath, { force: true });
    return false;
  }

  private logTail(): string {
    try {
      return readFileSync(join(this.dir, "host.log"), "utf8").trimEnd().split("\n").slice(-10).join("\n");
    } catch {
      return "(no log)";
    }
  }

  private request(method: string, path: string, body: unknown, timeoutMs: number): Promise<{ status: number; body: string }> {
    const tokenFile = join(this.dir, "host.token");
    if (!existsSync(tokenFile)) return Promise.reject(new Error("no host token"));
    const token = readFileSync(tokenFile, "utf8").trim();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: join(this.dir, "host.sock"),
          path,
          method,
          timeout: timeoutMs,
          headers: { authorization: `Bearer ${token}`, ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`the host relay did not answer ${method} ${path} within ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(payload);
    });
  }
}
