/**
 * @module follow — a session's event log as an async iterator that resumes by itself.
 *
 * It reads SSE through `fetch` (so it can send `Authorization` and `Last-Event-ID`, which `EventSource`
 * cannot). After a drop — a network failure, a proxy closing the stream, the server restarting — it reconnects
 * with backoff from the last event it yielded, and it yields an event only when its seq is exactly the next
 * one: a duplicate is dropped and a gap is filled from JSON pages first. A consumer therefore sees every event
 * once, in order, whatever the network does. It ends when the session is final (failed, or stopped with its
 * sandbox gone) and every event was yielded.
 *
 * It pulls: the stream is read only as fast as the consumer takes events, so a slow consumer holds back its
 * own connection (the server then catches it up from the store) and never grows a buffer here.
 *
 * `subscribe` is the same loop for callback-style consumers (UIs).
 */
import type { AirlockEvent, EventType, EventsPage, SessionView } from "@airlock/protocol";
import { AirlockApiError, apiError } from "./errors.ts";
import { type Transport, sessionPath, sleep } from "./http.ts";
import { SseParser } from "./sse.ts";

/**
 * `connecting`: the first connection is being made; `live`: connected, events flow; `reconnecting`: the
 * connection dropped and is being made again; `ended`: the log is final and every event was delivered.
 */
export type SubscriptionStatus = "connecting" | "live" | "reconnecting" | "ended";

/** Options of `events()` (the async iterator). */
export interface FollowOptions {
  /** Yield events with a seq above this one (default 0: the whole log). */
  after?: number;
  /**
   * Only events of these types (`?types=`). Their seqs then have gaps (the events between were of other types);
   * each is still yielded once, in order, and a reconnect resumes exactly.
   */
  types?: readonly EventType[];
  /** Stops following: the iterator ends (no error). */
  signal?: AbortSignal;
  onStatus?(status: SubscriptionStatus): void;
  /** Told about each failed attempt (`fatal` false: it goes on) and about a fatal error (it stops and throws). */
  onError?(error: unknown, fatal: boolean): void;
  /** Reconnection delays: the first, doubled each failure up to `maxMs`, reset once live (default 500 / 10,000). */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * A connection that brings nothing, not even a heartbeat, for this long is taken for dead (a half-open TCP
   * connection never errors). The server sends a heartbeat every 15 s. Default 45,000.
   */
  stallMs?: number;
}

/** Options of `subscribe()` (callbacks). */
export interface SubscribeOptions extends FollowOptions {
  /** Called once per event, in seq order, never twice for one seq. */
  onEvent(event: AirlockEvent): void;
}

/** A running subscription. */
export interface Subscription {
  /** Stops following; no event is delivered after it returns. */
  close(): void;
  /** Resolves when the log ended (final session, all delivered) or `close()` was called; rejects on a fatal error. */
  readonly done: Promise<void>;
  /** The seq of the last event delivered. */
  readonly lastSeq: number;
}

/** A gap that a page read could not fill, or a frame that could not be read: reconnect and try again. */
class StreamProblem extends Error {}

/** The query of one JSON page of events. */
export interface ReadEventsQuery {
  after?: number;
  limit?: number;
  /** Only events of these types; `nextAfter` may then be past the last event shown (read on from it). */
  types?: readonly EventType[];
}

/** One JSON page of a session's log: events with a seq above `after`, at most `limit` (server maximum 1,000). */
export function readEvents(transport: Transport, id: string, query: ReadEventsQuery = {}, signal?: AbortSignal): Promise<EventsPage> {
  const params = new URLSearchParams({ after: String(query.after ?? 0) });
  if (query.limit !== undefined) params.set("limit", String(query.limit));
  if (query.types?.length) params.set("types", query.types.join(","));
  return transport.request({ method: "GET", path: sessionPath(id, `/events?${params}`), signal });
}

/** The log of session `id` from `options.after`, live, resuming across drops; see the module comment. */
export async function* follow(transport: Transport, id: string, options: FollowOptions = {}): AsyncGenerator<AirlockEvent, void, undefined> {
  const signal = options.signal;
  const initialMs = options.backoff?.initialMs ?? 500;
  const maxMs = options.backoff?.maxMs ?? 10_000;
  const stallMs = options.stallMs ?? 45_000;
  // With `types`, `last` is the seq up to which the log was looked at (events past it may be of other types).
  let last = options.after ?? 0;
  const types = options.types?.length ? options.types : undefined;
  const typesQuery = types ? `?types=${encodeURIComponent(types.join(","))}` : "";
  let status: SubscriptionStatus | null = null;
  const setStatus = (next: SubscriptionStatus) => {
    if (next === status || signal?.aborted) return;
    status = next;
    options.onStatus?.(next);
  };

  /** The events after `last` up to and including `upTo`, from JSON pages. */
  async function* fillGap(upTo: number): AsyncGenerator<AirlockEvent> {
    while (last < upTo && !signal?.aborted) {
      const page = await readEvents(transport, id, { after: last, limit: Math.min(1000, upTo - last), ...(types ? { types } : {}) }, signal);
      const before = last;
      for (const e of page.events) {
        if (e.seq > upTo) break;
        if (e.seq <= last) continue;
        if (!types && e.seq !== last + 1) throw new StreamProblem(`the log skipped from ${last} to ${e.seq}`);
        last = e.seq;
        yield e;
        if (signal?.aborted) return;
      }
      // Filtered: the page says how far it looked, past events of other types.
      if (types) last = Math.max(last, Math.min(page.nextAfter, upTo));
      if (last === before) throw new StreamProblem(`events ${last + 1}..${upTo} are not readable yet`);
    }
  }

  let delay = initialMs;
  setStatus("connecting");
  while (!signal?.aborted) {
    let wentLive = false;
    const conn = new AbortController();
    const onAbort = () => conn.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      const res = await transport.fetch(sessionPath(id, `/events${typesQuery}`), {
        headers: { accept: "text/event-stream", "last-event-id": String(last), ...transport.authHeaders() },
        signal: conn.signal,
      });
      if (!res.ok) throw await apiError(res);
      if (!res.body) throw new StreamProblem("the events response has no body");
      wentLive = true;
      setStatus("live");
      reader = res.body.getReader();
      const parser = new SseParser();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await readWithin(reader, stallMs, conn);
        if (signal?.aborted) return;
        if (done) break;
        for (const frame of parser.push(decoder.decode(value, { stream: true }))) {
          if (!frame.data) continue; // a heartbeat or a retry hint
          let event: AirlockEvent;
          try {
            event = JSON.parse(frame.data) as AirlockEvent;
          } catch {
            throw new StreamProblem(`an event frame is not JSON: ${frame.data.slice(0, 80)}`);
          }
          if (typeof event?.seq !== "number") throw new StreamProblem("an event frame has no seq");
          if (event.seq <= last) continue; // already yielded (a replay after a reconnect, or a duplicate frame)
          // Filtered, gaps are expected: the server sends every event of the types, in order.
          if (!types && event.seq > last + 1) yield* fillGap(event.seq - 1);
          if (signal?.aborted) return;
          if (types || event.seq === last + 1) {
            last = event.seq;
            yield event;
            if (signal?.aborted) return;
          }
        }
      }
      // The server ends the stream once the log is final; anything else (a proxy, a restart) is a drop.
      const session = await transport.request<SessionView>({ method: "GET", path: sessionPath(id), signal });
      if (session.final) {
        if (last < session.lastSeq) yield* fillGap(session.lastSeq);
        if (signal?.aborted) return;
        setStatus("ended");
        return;
      }
      options.onError?.(new StreamProblem("the event stream ended early"), false);
    } catch (err) {
      if (signal?.aborted) return;
      if (isFatal(err)) {
        options.onError?.(err, true);
        throw err;
      }
      options.onError?.(err, false);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      conn.abort();
      reader?.cancel().catch(() => {});
    }
    if (signal?.aborted) return;
    setStatus("reconnecting");
    if (wentLive) delay = initialMs; // it was working: a single drop is retried soon
    await sleep(delay * (0.8 + Math.random() * 0.4), signal);
    delay = Math.min(delay * 2, maxMs);
  }
}

/** Follows the log with callbacks; see `SubscribeOptions`. */
export function subscribe(transport: Transport, id: string, options: SubscribeOptions): Subscription {
  const stop = new AbortController();
  const outer = options.signal;
  const onOuterAbort = () => stop.abort();
  if (outer?.aborted) stop.abort();
  else outer?.addEventListener("abort", onOuterAbort, { once: true });
  let last = options.after ?? 0;
  const run = async () => {
    for await (const event of follow(transport, id, { ...options, signal: stop.signal })) {
      if (stop.signal.aborted) return;
      last = event.seq;
      try {
        options.onEvent(event);
      } catch (err) {
        // A consumer's bug must not stall the stream nor make it deliver this event again.
        options.onError?.(err, false);
      }
    }
  };
  const done = run().finally(() => outer?.removeEventListener("abort", onOuterAbort));
  done.catch(() => {}); // the caller may ignore `done`; a fatal error still reaches onError
  return {
    close: () => stop.abort(),
    done,
    get lastSeq() {
      return last;
    },
  };
}

/** A read that gives up (aborting the connection) when nothing, not even a heartbeat, came for `stallMs`. */
async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, stallMs: number, conn: AbortController) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Not every fetch errors its body on abort: cancelling the reader ends a pending read at once.
  const onAbort = () => void reader.cancel().catch(() => {});
  conn.signal.addEventListener("abort", onAbort, { once: true });
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new StreamProblem(`no data for ${stallMs} ms`));
      conn.abort();
    }, stallMs);
  });
  try {
    return await Promise.race([reader.read(), stalled]);
  } finally {
    clearTimeout(timer);
    conn.signal.removeEventListener("abort", onAbort);
  }
}

/** Errors that another attempt cannot fix: bad credentials, no such session, a malformed request. */
function isFatal(err: unknown): boolean {
  return AirlockApiError.is(err) && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}
