/**
 * @module events — a session's log over SSE (backlog from the store, then the live tail) or as JSON pages.
 *
 * Frames are written straight to Node's response: at a hundred subscribers a web-stream per subscriber costs
 * more than the rest of the pipeline. Each subscriber keeps a bounded queue of live frames (encoded once by the
 * bus and shared); when it overflows (a slow client) the queue is dropped and the subscriber catches up from
 * the store, so it never holds the agent or the other subscribers back. A frame is written only if its seq
 * follows the last one sent; anything else is read from the store.
 *
 * `types` (`?types=a,b`) keeps only events of those types: the cursor still walks every seq (so gaps are detected
 * and filled exactly as without a filter), only the frames written are fewer. The seqs a client sees then have
 * gaps, and `Last-Event-ID` resumes exactly: the events skipped after it were of other types.
 */
import type { ServerResponse } from "node:http";
import { type EventRow, eventJson, sseFrame } from "@airlock/protocol";
import { type EventBus, type LiveEvent, joinBytes } from "../sessions/bus.ts";

export interface EventSource {
  readEvents(sessionId: string, after: number, limit: number): Promise<EventRow[]>;
  isFinal(sessionId: string): Promise<boolean>;
}

const pageSize = 1000;
const maxQueuedBytes = 1 << 20;
const heartbeatMs = 15_000;

/** Open streams, pinged together by one timer (a timer per stream would be re-armed on every event). */
const open = new Set<{ heartbeat(): void }>();
setInterval(() => {
  for (const stream of open) stream.heartbeat();
}, heartbeatMs).unref();

/** Event types to keep (`?types=`); null keeps all. */
export type TypeFilter = ReadonlySet<string> | null;

export function writeSse(res: ServerResponse, sessionId: string, after: number, source: EventSource, bus: EventBus, types: TypeFilter = null): void {
  let cursor = after;
  let queue: LiveEvent[] = [];
  let queuedBytes = 0;
  let fromStore = true;
  let pumping = false;
  let closed = false;
  let quiet = true;

  // The stream owns its connection until it ends: no chunked framing around every frame.
  res.useChunkedEncodingByDefault = false;
  res.shouldKeepAlive = false;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "close",
    "x-accel-buffering": "no",
  });
  res.write("retry: 2000\n\n");

  const unsubscribe = bus.subscribe(sessionId, (events) => {
    if (!fromStore) {
      for (const e of events) {
        queue.push(e);
        queuedBytes += e.bytes.length;
      }
      if (queuedBytes > maxQueuedBytes) {
        queue = [];
        queuedBytes = 0;
        fromStore = true;
      }
    }
    if (!pumping) void pump();
  });
  const stream = {
    heartbeat() {
      if (!quiet || pumping) {
        quiet = true;
        return;
      }
      res.write(": ping\n\n");
      // A log that became final while nobody wrote to it still ends.
      void source.isFinal(sessionId).then((final) => {
        if (!final || pumping) return;
        fromStore = true;
        void pump();
      });
    },
  };
  open.add(stream);
  const close = () => {
    if (closed) return;
    closed = true;
    open.delete(stream);
    unsubscribe();
  };
  res.once("close", close);

  /** Writes; resolves at once unless the socket's buffer is full (no promise, no await per frame then). */
  const write = (chunk: string | Buffer): Promise<void> | undefined => {
    quiet = false;
    if (res.write(chunk)) return undefined;
    return new Promise<void>((resolve) => res.once("drain", resolve).once("close", resolve));
  };

  async function pump(): Promise<void> {
    pumping = true;
    try {
      while (!closed) {
        if (fromStore) {
          // Go live first: whatever is published from now on is queued, whatever was before is in the store.
          fromStore = false;
          queue = [];
          queuedBytes = 0;
          const rows = await source.readEvents(sessionId, cursor, pageSize);
          if (rows.length > 0) {
            let out = "";
            for (const row of rows) if (!types || types.has(row.type)) out += sseFrame(row);
            cursor = rows[rows.length - 1].seq;
            // One more look at the store after the backlog: a full page may have more behind it, and a log that
            // was final before the client came ends there (nothing will be published to end it later).
            fromStore = true;
            if (out) await write(out);
            continue;
          }
          if (await source.isFinal(sessionId)) {
            close();
            res.end();
            return;
          }
        }
        if (queue.length === 0) return;
        const batch = queue;
        queue = [];
        queuedBytes = 0;
        const fresh: LiveEvent[] = [];
        for (const e of batch) {
          if (e.seq <= cursor) continue;
          if (e.seq !== cursor + 1) {
            fromStore = true; // a gap: the store has what is missing
            break;
          }
          fresh.push(e);
          cursor = e.seq;
          // A stop or failure may be the last event: the next round checks the store and ends a final log.
          if (e.mayEnd) fromStore = true;
        }
        // The shared bytes as they are: a batch's events are one slice, written without copying.
        let full: Promise<void> | undefined;
        for (const bytes of joinBytes(types ? fresh.filter((e) => types.has(e.type)) : fresh)) full = write(bytes) ?? full;
        if (full) await full;
      }
    } catch {
      close();
      res.destroy();
    } finally {
      pumping = false;
    }
  }

  void pump();
}

/** Events of other types read past at most per filtered page: a rare type in a long log costs bounded work. */
const maxScannedPerPage = 20_000;

/**
 * One JSON page of events: `{events, nextAfter}`, built without re-parsing the stored data. With `types`, the log
 * is read in pages until `limit` events of those types were found, the log ended, or `maxScannedPerPage` events
 * were read past; `nextAfter` is then the last seq looked at (an empty page with `nextAfter` above `after` means
 * "nothing of those types up to there", not the end).
 */
export async function jsonPage(sessionId: string, after: number, limit: number, source: EventSource, types: TypeFilter = null): Promise<string> {
  let body = '{"events":[';
  let n = 0;
  let nextAfter = after;
  for (let scanned = 0; n < limit && scanned < maxScannedPerPage; ) {
    const want = types ? pageSize : limit - n;
    const rows = await source.readEvents(sessionId, nextAfter, want);
    for (const row of rows) {
      nextAfter = row.seq;
      if (types && !types.has(row.type)) continue;
      body += (n ? "," : "") + eventJson(row);
      if (++n === limit) break;
    }
    scanned += rows.length;
    if (rows.length < want) break;
  }
  return body + `],"nextAfter":${nextAfter}}`;
}
