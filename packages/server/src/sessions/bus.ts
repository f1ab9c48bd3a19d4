/**
 * @module bus — in-process fan-out of freshly stored events to the session's subscribers.
 *
 * A published batch's SSE frames are encoded once, into one buffer shared by every subscriber; each event holds
 * its own slice of it, so a subscriber writes a run of consecutive events as one slice (`joinBytes`) instead of
 * encoding a string per subscriber. Subscribers keep their own bounded queues; the bus never waits for them,
 * so a slow client cannot slow the agent or the other clients.
 */
import { type EventRow, finalStatuses, sseFrame } from "@airlock/protocol";

export interface LiveEvent {
  seq: number;
  type: EventRow["type"];
  /** The event's SSE frame: a slice of its batch's shared buffer. */
  bytes: Buffer;
  /** A status after which the log may be complete (stopped, failed): a subscriber checks the store. */
  mayEnd: boolean;
}

export type Listener = (events: LiveEvent[]) => void;

export class EventBus {
  private readonly listeners = new Map<string, Set<Listener>>();
  /**
   * The last seq published, per session that has subscribers (or is about to: `prime`): events of one session
   * can come from this node's driver and from another node's commits read back (cluster/feed.ts), and each is
   * passed on once. Subscribers still check seqs themselves and read gaps from the store.
   */
  private readonly published = new Map<string, number>();

  publish(sessionId: string, rows: EventRow[]): void {
    const set = this.listeners.get(sessionId);
    if (!set || set.size === 0 || rows.length === 0) return;
    const last = this.published.get(sessionId) ?? 0;
    if (rows[0].seq <= last) rows = rows.filter((r) => r.seq > last);
    if (rows.length === 0) return;
    this.published.set(sessionId, rows[rows.length - 1].seq);
    const frames = rows.map(sseFrame);
    const all = Buffer.from(frames.join(""));
    let offset = 0;
    const events = rows.map((row, i): LiveEvent => {
      const end = offset + Buffer.byteLength(frames[i]);
      const bytes = all.subarray(offset, end);
      offset = end;
      const mayEnd = row.type === "session.status" && finalStatuses.includes(JSON.parse(row.data).status);
      return { seq: row.seq, type: row.type, bytes, mayEnd };
    });
    for (const listener of set) listener(events);
  }

  subscribe(sessionId: string, listener: Listener): () => void {
    let set = this.listeners.get(sessionId);
    if (!set) this.listeners.set(sessionId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) {
        this.listeners.delete(sessionId);
        this.published.delete(sessionId);
      }
    };
  }

  /** The last seq passed on for a session with subscribers; undefined when none was yet. */
  lastPublished(sessionId: string): number | undefined {
    return this.published.get(sessionId);
  }

  /** Sets where passing on starts for a session about to get its first subscriber (nothing older is passed on). */
  prime(sessionId: string, seq: number): void {
    if (!this.published.has(sessionId)) this.published.set(sessionId, seq);
  }

  /** Forgets sessions primed that got no subscriber. */
  sweep(): void {
    for (const id of this.published.keys()) if (!this.listeners.has(id)) this.published.delete(id);
  }

  /** Sessions with subscribers on this node. */
  subscribed(): string[] {
    return [...this.listeners.keys()];
  }

  subscriberCount(sessionId: string): number {
    return this.listeners.get(sessionId)?.size ?? 0;
  }
}

/**
 * The frames of consecutive events as few buffers as possible: slices that follow each other in one buffer
 * (events of one batch) are joined into one slice, without copying.
 */
export function joinBytes(events: LiveEvent[]): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < events.length) {
    const first = events[i].bytes;
    let end = first.byteOffset + first.length;
    let j = i + 1;
    for (; j < events.length; j++) {
      const next = events[j].bytes;
      if (next.buffer !== first.buffer || next.byteOffset !== end) break;
      end += next.length;
    }
    out.push(j === i + 1 ? first : Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset));
    i = j;
  }
  return out;
}
