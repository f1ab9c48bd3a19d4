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

const pageSize = 1000;

export class CrossNodeFeed {
  /** Sessions being read, and whether another look was asked for meanwhile. */
  private readonly reading = new Map<string, { again: boolean }>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly store: Pick<StoreV1, "readEvents" | "sessionHeads">,
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

  /** Reads and publishes what follows the last seq passed on; one read per session at a time. */
  private read(sessionId: string): void {
    const current = this.reading.get(sessionId);
    if (current) {
      current.again = true;
      return;
    }
    const state = { again: false };
    this.reading.set(sessionId, state);
    void (async () => {
      try {
        do {
          state.again = false;
          let rows: EventRow[];
          do {
            const after = this.bus.lastPublished(sessionId);
            if (after === undefined) return;
            rows = await this.store.readEvents(sessionId, after, pageSize);
            this.bus.publish(sessionId, rows);
          } while (rows.length === pageSize);
        } while (state.again);
      } catch (err) {
        this.log.warn({ err, session: sessionId }, "cluster: reading new events failed; the poll tries again");
      } finally {
        this.reading.delete(sessionId);
      }
    })();
  }
}
