/**
 * @module cluster/feed — events other nodes commit, passed on to this node's subscribers.
 *
 * The store's seq is the only truth. Commits on any node ring the doorbell once stored (a NOTIFY carrying
 * `sessionId:lastSeq` of each session written since the node's last one, see store/postgres/doorbell.ts); a node
 * that has subscribers of a session and has not passed that seq on reads the new rows by seq and publishes them on
 * its bus. Deliveries may be lost, late or out of order: the doorbell only says "look", and a slow poll of the
 * sessions' heads looks anyway, so nothing is lost and nothing is reordered (the bus passes each seq on once;
 * subscribers read any gap from the store).
 */
import type { EventRow, StoreV1 } from "@airlock/protocol";
import type { Logger } from "../log.ts";
import type { EventBus } from "../sessions/bus.ts";

/** Rows per session per read, and sessions per read: one read holds at most their product. */
const pageSize = 1000;
const sessionsPerRead = 20;

export class CrossNodeFeed {
  /** Sessions to look at; one read runs at a time and takes up to `sessionsPerRead` of them. */
  private readonly wanted = new Set<string>();
  private reading: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly store: Pick<StoreV1, "readEventsOf" | "sessionHeads">,
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A doorbell: `sessionId:lastSeq,…`. */
  ring(payload: string): void {
    for (const entry of payload.split(",")) {
      const at = entry.lastIndexOf(":");
      const sessionId = entry.slice(0, at);
      const seq = Number(entry.slice(at + 1));
      const published = this.bus.lastPublished(sessionId);
      if (published !== undefined && seq > published) this.read(sessionId);
    }
  }

  /** The backstop (and a look after the doorbell's connection came back): every watched session's head. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.bus.sweep();
      const ids = this.bus.subscribed().filter((id) => this.bus.lastPublished(id) !== undefined);
      for (const { id, lastSeq } of await this.store.sessionHeads(ids)) {
        if (lastSeq > (this.bus.lastPublished(id) ?? Infinity)) this.read(id);
      }
    } catch (err) {
      this.log.warn({ err }, "cluster: polling sessions' heads failed");
    } finally {
      this.polling = false;
    }
  }

  /**
   * Reads and publishes what follows the last seq passed on. Sessions rung while a read runs wait for the next
   * one, so under load many sessions' new events come in one query instead of one query per session.
   */
  private read(sessionId: string): void {
    this.wanted.add(sessionId);
    this.reading ??= this.readWanted().finally(() => (this.reading = null));
  }

  private async readWanted(): Promise<void> {
    while (this.wanted.size > 0) {
      const cursors: Array<{ sessionId: string; after: number }> = [];
      for (const sessionId of this.wanted) {
        this.wanted.delete(sessionId);
        const after = this.bus.lastPublished(sessionId);
        if (after !== undefined) cursors.push({ sessionId, after });
        if (cursors.length === sessionsPerRead) break;
      }
      let rows: EventRow[];
      try {
        rows = await this.store.readEventsOf(cursors, pageSize);
      } catch (err) {
        this.log.warn({ err, sessions: cursors.length }, "cluster: reading new events failed; the poll tries again");
        continue;
      }
      const bySession = new Map<string, EventRow[]>();
      for (const row of rows) {
        const list = bySession.get(row.sessionId);
        if (list) list.push(row);
        else bySession.set(row.sessionId, [row]);
      }
      for (const [sessionId, list] of bySession) {
        this.bus.publish(sessionId, list);
        if (list.length === pageSize) this.wanted.add(sessionId);
      }
    }
  }
}
