/**
 * @module provider-ttl — keeps a provider's own sandbox timeout (E2B's) ahead of the session while work goes on,
 * so a sandbox never times out mid-turn, and lets an idle one run out only after the session's idle deadline.
 */
import type { SandboxHandle } from "@airlock/protocol";
import type { Logger } from "../log.ts";

/** How often the timeout is pushed forward while work goes on. */
const pushEveryMs = 30_000;
/** E2B's longest timeout on its hobby plan: an hour. */
const maxProviderTtlMs = 3_600_000;

/** The provider timeout of a session: its idle timeout and a minute, at most an hour. */
export const providerTtlMs = (idleTimeoutSec: number) => Math.min(idleTimeoutSec * 1000 + 60_000, maxProviderTtlMs);

export class ProviderTtl {
  private timer: NodeJS.Timeout | null = null;
  private lastPush = 0;

  constructor(
    private readonly ttlMs: () => number,
    /** Work is under way (a turn runs or is being sent, an interaction waits). */
    private readonly busy: () => boolean,
    /** When the session last saw activity (ms since epoch). */
    private readonly lastActivity: () => number,
    private readonly log: Logger,
    private readonly sessionId: string,
  ) {}

  /** Starts pushing for `handle` (when its provider has a timeout of its own). */
  start(handle: SandboxHandle | null): void {
    if (!handle?.keepAlive || this.timer) return;
    this.timer = setInterval(() => this.push(handle), pushEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Pushes now if work goes on or something happened since the last push. */
  push(handle: SandboxHandle | null): void {
    if (!handle?.keepAlive || (!this.busy() && this.lastActivity() <= this.lastPush)) return;
    this.lastPush = Date.now();
    handle.keepAlive(this.ttlMs()).catch((err) => this.log.warn({ err, session: this.sessionId }, "could not extend the sandbox's timeout"));
  }
}
