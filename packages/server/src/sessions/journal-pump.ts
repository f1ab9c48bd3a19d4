/**
 * @module journal-pump — follows one relay's journal from an offset and hands its records, a batch at a time,
 * to the driver, which commits them; acknowledges what is stored.
 *
 * The pump owns the connection to sandboxd and nothing else: what a record means is the mapper's business, and
 * what to do when the relay is gone is the driver's (told through `onLost`). When the stream breaks it asks the
 * relay whether it still lives, finds it again when it moved (a paused E2B sandbox resumes on a new endpoint),
 * and backs off between attempts.
 */
import type { JournalRecord, SandboxdEndpoint } from "@airlock/protocol";
import { SandboxdClient } from "@airlock/sandboxd";
import type { Logger } from "../log.ts";

export interface PumpHooks {
  /** Handles one batch (the driver commits it in its serial queue). A throw breaks the stream; it is retried. */
  onRecords(records: JournalRecord[]): Promise<void>;
  /** True once the agent's exit is stored: the end of the stream is expected, not a loss. */
  agentGone(): boolean;
  /** Finds the relay again; `endpoint` null when it is gone (with `error` when finding it failed). */
  refind(): Promise<{ endpoint: SandboxdEndpoint | null; error?: string }>;
  /**
   * The relay stopped answering and could not be found again. `signal` aborts when this pump was stopped or
   * started anew meanwhile (the driver may be restarting the agent): a loss seen by an old pump is no loss.
   */
  onLost(error: string | undefined, signal: AbortSignal): Promise<void>;
}

/** How often what is stored is acknowledged while a session streams (see `acknowledge`). */
const ackEveryMs = 5000;

export class JournalPump {
  private abort: AbortController | null = null;
  private ackTimer: NodeJS.Timeout | null = null;
  /** Last journal seq handed over and stored. */
  offset = 0;

  constructor(
    private readonly hooks: PumpHooks,
    private readonly log: Logger,
    private readonly sessionId: string,
    public client: SandboxdClient | null = null,
  ) {}

  get running(): boolean {
    return this.abort !== null && !this.abort.signal.aborted;
  }

  /** Follows `client`'s journal from `after` (restarting the pump if it ran). */
  start(client: SandboxdClient, after: number): void {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.client = client;
    this.offset = after;
    this.run(abort.signal).catch((err) => this.log.error({ err, session: this.sessionId }, "the journal pump stopped on an error"));
  }

  /** Stops following; the relay is not touched. */
  stop(): void {
    this.abort?.abort();
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }

  /**
   * Acknowledges what is stored: at once when that includes the agent's exit record (the relay ends when it
   * knows the control plane holds it), else at most every few seconds. Two acks a second per session were a
   * tenth of the wake-ups of 50 sessions streaming 20 events a second, each an HTTP round trip for the server and
   * the relay. (The stored offset, not the ack, is what resumes a session.)
   */
  acknowledge(now: boolean): void {
    const client = this.client;
    if (!client) return;
    const send = () => {
      this.ackTimer = null;
      client.ack(this.offset).catch(() => {});
    };
    if (now) {
      if (this.ackTimer) clearTimeout(this.ackTimer);
      send();
    } else if (!this.ackTimer) {
      this.ackTimer = setTimeout(send, ackEveryMs);
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    let backoff = 50;
    while (!signal.aborted && this.client) {
      const client = this.client;
      try {
        await client.follow(
          this.offset,
          (records) => {
            backoff = 50;
            return this.hooks.onRecords(records);
          },
          signal,
        );
      } catch (err) {
        if (signal.aborted) return;
        this.log.debug({ err, session: this.sessionId }, "journal stream interrupted");
      }
      if (signal.aborted || this.hooks.agentGone()) return;
      const alive = await client.health().then(
        () => true,
        () => false,
      );
      if (!alive && !signal.aborted) {
        // The sandbox may have paused itself (E2B's timeout ran out): finding the relay again resumes it.
        const again = await this.hooks.refind();
        if (again.endpoint && !signal.aborted) {
          this.client = new SandboxdClient(again.endpoint);
          continue;
        }
        if (!signal.aborted) await this.hooks.onLost(again.error, signal);
        return;
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 2000);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
