/**
 * @module sandbox — one fake sandbox's lifecycle as E2B's API tells it: running ⇄ paused (processes frozen
 * with their memory, connections dropped), timeout that kills or pauses (`autoPause`), kill.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { ServerStream } from "./connect-rpc.ts";
import type { Bind, Vm } from "./vm.ts";

export interface FakeTemplate {
  /** Host folders shown read-only in the sandbox (what a built template would have installed). */
  binds?: Bind[];
  /** Files written into the sandbox's filesystem at creation. */
  files?: Record<string, string>;
  /** A shell script run as root in each new sandbox before it is handed out (the template's build steps). */
  setup?: string;
}

export type SandboxState = "running" | "paused" | "killed";

export class FakeSandbox {
  readonly id = sandboxId();
  readonly envdAccessToken = randomBytes(16).toString("hex");
  readonly startedAt = new Date();
  state: SandboxState = "running";
  endAt: Date;
  /** Open envd streams and proxied connections: a pause or kill drops them, as the VM's network goes away. */
  readonly streams = new Set<ServerStream>();
  readonly sockets = new Set<Socket>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly templateID: string,
    readonly metadata: Record<string, string>,
    readonly envVars: Record<string, string>,
    readonly autoPause: boolean,
    /** Set when the sandbox was created with `network.allowPublicTraffic: false`. */
    readonly trafficAccessToken: string | null,
    readonly network: Record<string, unknown> | undefined,
    readonly vm: Vm,
    timeoutSec: number,
    private readonly onExpire: (sbx: FakeSandbox) => void,
  ) {
    this.endAt = new Date();
    this.setTimeout(timeoutSec);
  }

  /** TTL counted from now (E2B overwrites, it does not add). */
  setTimeout(seconds: number): void {
    this.endAt = new Date(Date.now() + seconds * 1000);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onExpire(this), Math.max(0, seconds * 1000));
    this.timer.unref();
  }

  pause(): void {
    if (this.state !== "running") return;
    this.state = "paused";
    if (this.timer) clearTimeout(this.timer);
    this.dropConnections();
    this.vm.pause();
  }

  resume(timeoutSec: number): void {
    this.vm.resume();
    this.state = "running";
    this.setTimeout(timeoutSec);
  }

  async kill(): Promise<void> {
    if (this.state === "killed") return;
    this.state = "killed";
    if (this.timer) clearTimeout(this.timer);
    this.dropConnections();
    await this.vm.destroy();
  }

  private dropConnections(): void {
    for (const s of this.streams) s.abort();
    this.streams.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  listed(envdVersion: string): Record<string, unknown> {
    return {
      sandboxID: this.id,
      templateID: this.templateID,
      clientID: "fake",
      cpuCount: 2,
      memoryMB: 512,
      diskSizeMB: 1024,
      envdVersion,
      metadata: this.metadata,
      startedAt: this.startedAt.toISOString(),
      endAt: this.endAt.toISOString(),
      state: this.state === "killed" ? "running" : this.state,
    };
  }
}

/** E2B sandbox ids: 20 lowercase letters and digits. */
function sandboxId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (const b of randomBytes(20)) out += alphabet[b % alphabet.length];
  return out;
}
