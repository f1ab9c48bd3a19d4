/**
 * @module events — a session's log over SSE (backlog from the store, then the live tail) or as JSON pages.
 *
 * Each subscriber has a bounded queue of live frames. When it overflows (a slow client) the queue is dropped
 * and the subscriber catches up from the store, so it never holds the agent or the other subscribers back.
 * Frames are written only in order: `seq` must follow the last one sent, else the gap is read from the store.
 */
import { type EventRow, eventJson, sseFrame } from "@airlock/protocol";
import type { EventBus, LiveEvent } from "../sessions/bus.ts";

export interface EventSource {
  readEvents(sessionId: string, after: number, limit: number): Promise<EventRow[]>;
  isFinal(sessionId: string): Promise<boolean>;
}

const pageSize = 1000;
const maxQueuedBytes = 1 << 20;
const heartbeatMs = 15_000;

export function sseStream(sessionId: string, after: number, source: EventSource, bus: EventBus, signal: AbortSignal): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor = after;
  let queue: LiveEvent[] = [];
  let queuedBytes = 0;
  let fromStore = true;
  let wake: (() => void) | null = null;
  let closed = false;

  const unsubscribe = bus.subscribe(sessionId, (events) => {
    if (fromStore) {
      wake?.();
      return; // the store read that is due will include these
    }
    for (const e of events) {
      queue.push(e);
      queuedBytes += e.frame.length;
    }
    if (queuedBytes > maxQueuedBytes) {
      queue = [];
      queuedBytes = 0;
      fromStore = true;
    }
    wake?.();
  });
  const close = () => {
    closed = true;
    unsubscribe();
    wake?.();
  };
  signal.addEventListener("abort", close, { once: true });

  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode("retry: 2000\n\n"));
    },
    async pull(controller) {
      while (!closed) {
        if (fromStore) {
          // Switch to live first: anything published from now on is queued, anything before is in the store.
          fromStore = false;
          queue = [];
          queuedBytes = 0;
          const rows = await source.readEvents(sessionId, cursor, pageSize);
          if (rows.length > 0) {
            let out = "";
            for (const row of rows) out += sseFrame(row);
            cursor = rows[rows.length - 1].seq;
            if (rows.length === pageSize) fromStore = true;
            controller.enqueue(encoder.encode(out));
            return;
          }
          if (await source.isFinal(sessionId)) {
            close();
            controller.close();
            return;
          }
        }
        if (queue.length > 0) {
          const batch = queue;
          queue = [];
          queuedBytes = 0;
          let out = "";
          for (const e of batch) {
            if (e.seq <= cursor) continue;
            if (e.seq !== cursor + 1) {
              fromStore = true; // a gap: the store has what is missing
              break;
            }
            out += e.frame;
            cursor = e.seq;
            // A status change may be the last event: the next pull checks the store and ends a final log.
            if (e.type === "session.status") fromStore = true;
          }
          if (out) {
            controller.enqueue(encoder.encode(out));
            return;
          }
          continue;
        }
        const woken = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), heartbeatMs);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = null;
        if (!woken && !closed) {
          if (await source.isFinal(sessionId)) fromStore = true;
          else {
            controller.enqueue(encoder.encode(": ping\n\n"));
            return;
          }
        }
      }
    },
    cancel() {
      close();
    },
  });
}

/** One JSON page of events: `{events, nextAfter}`, built without re-parsing the stored data. */
export async function jsonPage(sessionId: string, after: number, limit: number, source: EventSource): Promise<string> {
  const rows = await source.readEvents(sessionId, after, limit);
  let body = '{"events":[';
  for (let i = 0; i < rows.length; i++) body += (i ? "," : "") + eventJson(rows[i]);
  const nextAfter = rows.length ? rows[rows.length - 1].seq : after;
  return body + `],"nextAfter":${nextAfter}}`;
}
