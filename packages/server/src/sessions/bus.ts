/**
 * @module bus — in-process fan-out of freshly stored events to the session's subscribers.
 *
 * Each event's SSE frame is built once and shared by every subscriber. Subscribers keep their own bounded
 * queues; the bus never waits for them, so a slow client cannot slow the agent or the other clients.
 */
import { type EventRow, finalStatuses, sseFrame } from "@airlock/protocol";

export interface LiveEvent {
  seq: number;
  type: EventRow["type"];
  frame: string;
  /** The frame encoded once, for all subscribers. */
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
    const events = rows.map((row) => {
      const frame = sseFrame(row);
      const mayEnd = row.type === "session.status" && finalStatuses.includes(JSON.parse(row.data).status);
      return { seq: row.seq, type: row.type, frame, bytes: Buffer.from(frame), mayEnd };
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
