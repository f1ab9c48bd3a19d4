/**
 * @module cluster/node — this node among the nodes on one store: its heartbeat, the leases of the sessions it
 * drives, taking over sessions whose owner died, and the doorbell.
 *
 * Every `renewMs` the node renews its leases in one statement; a session whose lease it no longer holds (another
 * node took it while this one was paused or cut off) is let go at once — and had it tried to append first, the
 * commit's epoch check would have refused it. Beside that, never holding it up, it claims live sessions whose
 * lease expired (a node died) and re-attaches to them, and wakes the sessions it owns that have commands waiting
 * (a lost doorbell costs a tick).
 */
import type { LeaseRecord, StoreV1 } from "@airlock/protocol";
import type { Logger } from "../log.ts";
import type { CrossNodeFeed } from "./feed.ts";

export interface ClusterSettings {
  nodeId: string;
  leaseTtlMs: number;
  leaseRenewMs: number;
}

/** What the node asks of the sessions it drives (the session manager). */
export interface LeaseHolder {
  /** The sessions this node drives, with their lease epochs. */
  owned(): Array<{ sessionId: string; epoch: number }>;
  /**
   * The lease under `epoch` is gone: stop driving the session without touching its sandbox. A driver that holds
   * the session under another epoch (it was retired and claimed again meanwhile) is not the one meant.
   */
  lost(sessionId: string, epoch: number): void;
  /** This node took the session over: drive it from the stored journal offset, as after a restart. */
  adopt(sessionId: string, lease: LeaseRecord): Promise<void>;
  /** Commands for this session wait in the store. */
  wake(sessionId: string): void;
}

/** Sessions claimed per statement, and statements per tick at most (the rest wait for the next tick). */
const claimBatch = 20;
const claimRounds = 10;

export class ClusterNode {
  private timer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;
  private claiming: Promise<void> | null = null;
  private listening: { close(): Promise<void> } | null = null;
  private holder: LeaseHolder | null = null;
  private url = "";
  private readonly startedAt = Date.now();

  constructor(
    private readonly store: StoreV1,
    private readonly settings: ClusterSettings,
    private readonly feed: CrossNodeFeed,
    private readonly log: Logger,
  ) {}

  get id(): string {
    return this.settings.nodeId;
  }

  /** Registers the node, takes the sessions nobody drives, starts renewing and listening. */
  async start(holder: LeaseHolder): Promise<void> {
    this.holder = holder;
    // Leases held under this id belong to a previous run of this node, which is gone: take them back now.
    await this.store.releaseNodeLeases(this.id);
    this.listening =
      (await this.store.listen?.(
        (channel, payload) => this.heard(channel, payload),
        () => void this.feed.poll(),
      )) ?? null;
    this.feed.start();
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.settings.leaseRenewMs);
    this.timer.unref();
  }

  /** Where this node serves, for the nodes list (known once it listens). */
  setUrl(url: string): void {
    this.url = url;
    void this.store.heartbeat({ id: this.id, url, startedAt: this.startedAt }).catch(() => {});
  }

  /** Shutdown: gives up the leases at once and rings, so other nodes take the sessions without waiting. */
  async stop(released: string[]): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.feed.stop();
    await Promise.all([this.renewing, this.claiming]);
    try {
      await this.store.releaseLeases(this.id, released);
      if (released.length) await this.store.notify?.("leases", this.id);
      await this.store.removeNode(this.id);
    } catch (err) {
      this.log.warn({ err }, "cluster: could not hand the sessions over (they move when their leases expire)");
    }
    await this.listening?.close();
  }

  async liveNodes() {
    return this.store.listNodes(Date.now() - this.settings.leaseTtlMs);
  }

  /** A session ended here: its lease goes back at once. Never rejects. */
  release(sessionId: string): Promise<void> {
    return this.store.releaseLeases(this.id, [sessionId]).catch((err) => this.log.warn({ err, session: sessionId }, "cluster: could not release a lease"));
  }

  /** Tells the owner of a session that commands wait for it. */
  async ring(sessionId: string): Promise<void> {
    await this.store.notify?.("commands", sessionId);
  }

  /** Renews the leases and, beside it, claims sessions whose owner died and wakes those with commands. */
  tick(): Promise<void> {
    return Promise.all([this.renew(), this.claim()]).then(() => {});
  }

  private renew(): Promise<void> {
    return (this.renewing ??= this.renewLeases().finally(() => (this.renewing = null)));
  }

  private claim(): Promise<void> {
    return (this.claiming ??= this.claimAndWake().finally(() => (this.claiming = null)));
  }

  // Its own loop: taking sessions over can take long under load (each adopt re-attaches a sandbox), and this
  // node's leases must not lapse meanwhile.
  private async renewLeases(): Promise<void> {
    const { nodeId, leaseTtlMs } = this.settings;
    try {
      const owned = this.holder!.owned();
      const held = new Set(await this.store.renewLeases(nodeId, owned, leaseTtlMs));
      for (const { sessionId, epoch } of owned) if (!held.has(sessionId)) this.holder!.lost(sessionId, epoch);
      await this.store.heartbeat({ id: nodeId, url: this.url, startedAt: this.startedAt });
    } catch (err) {
      this.log.warn({ err }, "cluster: renewing leases failed");
    }
  }

  private async claimAndWake(): Promise<void> {
    const holder = this.holder!;
    const { nodeId, leaseTtlMs } = this.settings;
    try {
      for (let round = 0; round < claimRounds; round++) {
        const claimed = await this.store.claimExpired(nodeId, leaseTtlMs, claimBatch);
        for (const { sessionId, lease } of claimed) {
          this.log.info({ session: sessionId, epoch: lease.epoch }, "cluster: taking the session over");
          await holder.adopt(sessionId, lease).catch((err) => this.log.error({ err, session: sessionId }, "cluster: taking over failed"));
        }
        if (claimed.length < claimBatch) break;
      }
      for (const sessionId of await this.store.commandSessions(nodeId)) holder.wake(sessionId);
    } catch (err) {
      this.log.warn({ err }, "cluster: taking sessions over failed");
    }
  }

  private heard(channel: string, payload: string): void {
    if (channel === "events") this.feed.ring(payload);
    else if (channel === "commands") {
      if (this.holder?.owned().some((o) => o.sessionId === payload)) this.holder.wake(payload);
    } else if (channel === "leases" && payload !== this.id) void this.tick();
  }
}
