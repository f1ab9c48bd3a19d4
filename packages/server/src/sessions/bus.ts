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

  publish(sessionId: string, rows: EventRow[]): void {
    const set = this.listeners.get(sessionId);
    if (!set || set.size === 0 || rows.length === 0) return;
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
      if (set.size === 0) this.listeners.delete(sessionId);
    };
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
