/**
 * @module client — a typed client for Airlock's HTTP API (v1), for browsers and Node alike: it uses only
 * `fetch`, web streams, `TextDecoder` and `AbortSignal`.
 *
 * `subscribe` follows a session's event log over SSE read through `fetch` (so it can send `Authorization` and
 * `Last-Event-ID`, which `EventSource` cannot). After a drop it reconnects with backoff from the last event it
 * delivered, and it delivers an event only when its seq is exactly the next one: a duplicate is dropped and a
 * gap is filled from JSON pages first. A consumer therefore sees every event once, in order, whatever the
 * network does.
 *
 * @example
 * const airlock = new AirlockClient({ baseUrl: "http://127.0.0.1:4600" });
 * const session = await airlock.createSession({ agent: "scripted" });
 * const sub = airlock.subscribe(session.id, { onEvent: (e) => console.log(e.seq, e.type) });
 * await airlock.prompt(session.id, "tool");
 * // ... later
 * sub.close();
 */
import type { AgentView, AnswerInteraction, CreateSession, SessionView } from "./api.ts";
import type { AirlockEvent, SessionStatus } from "./events.ts";
import type { WorkspaceEntry } from "./provider.ts";
import { SseParser } from "./sse.ts";

export { SseParser, type SseFrame } from "./sse.ts";

const apiErrorMarker = Symbol.for("airlock.api-error");

/** An error answer of the API (`{"error": {code, message}}`), or `status: 0` when the server was unreachable. */
export class AirlockApiError extends Error {
  readonly [apiErrorMarker] = true;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AirlockApiError";
  }

  /** True for an `AirlockApiError` from any copy of this module. */
  static is(value: unknown): value is AirlockApiError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[apiErrorMarker] === true;
  }
}

export interface ClientOptions {
  /** Where the server is, e.g. `http://127.0.0.1:4600`; "" (the default) means the page's own origin. */
  baseUrl?: string;
  apiKey?: string;
  fetch?: typeof fetch;
}

export interface HealthView {
  ok: boolean;
  version?: string;
  store?: string;
  providers?: string[];
  defaultProvider?: string;
  agents?: Array<{ name: string; available: boolean }>;
  [key: string]: unknown;
}

export interface ListSessionsQuery {
  status?: SessionStatus;
  /** Exact matches on metadata keys. */
  metadata?: Record<string, string>;
  /** The cursor of the previous page (`nextCursor`). */
  before?: string;
  limit?: number;
}

export interface EventsPage {
  events: AirlockEvent[];
  /** Pass as `after` to read on; equals `after` when the page is empty. */
  nextAfter: number;
}

/**
 * `connecting`: the first connection is being made; `live`: connected, events flow; `reconnecting`: the
 * connection dropped and is being made again; `ended`: the log is final and every event was delivered.
 */
export type SubscriptionStatus = "connecting" | "live" | "reconnecting" | "ended";

export interface SubscribeOptions {
  /** Deliver events with a seq above this one (default 0: the whole log). */
  after?: number;
  /** Called once per event, in seq order, never twice for one seq. */
  onEvent(event: AirlockEvent): void;
  onStatus?(status: SubscriptionStatus): void;
  /** Told about each failed attempt (the subscription goes on) and about a fatal error (it stops). */
  onError?(error: unknown, fatal: boolean): void;
  signal?: AbortSignal;
  /** Reconnection delays: the first, doubled each failure up to `maxMs`, reset once live (default 500 / 10,000). */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * A connection that brings nothing, not even a heartbeat, for this long is taken for dead (a half-open TCP
   * connection never errors). The server sends a heartbeat every 15 s. Default 45,000.
   */
  stallMs?: number;
}

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

export class AirlockClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly apiKey: string | undefined;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    // Called bare, a browser's `fetch` throws "Illegal invocation" when it is not bound to the window.
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  health(): Promise<HealthView> {
    return this.request("GET", "/healthz");
  }

  async agents(): Promise<AgentView[]> {
    return (await this.request<{ agents: AgentView[] }>("GET", "/v1/agents")).agents;
  }

  createSession(body: CreateSession): Promise<SessionView> {
    return this.request("POST", "/v1/sessions", body);
  }

  listSessions(query: ListSessionsQuery = {}): Promise<{ sessions: SessionView[]; nextCursor: string | null }> {
    const params = new URLSearchParams();
    if (query.status) params.set("status", query.status);
    if (query.before) params.set("before", query.before);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    for (const [key, value] of Object.entries(query.metadata ?? {})) params.set(`metadata.${key}`, value);
    const qs = params.toString();
    return this.request("GET", `/v1/sessions${qs ? `?${qs}` : ""}`);
  }

  getSession(id: string): Promise<SessionView> {
    return this.request("GET", this.path(id));
  }

  /** Sends a prompt; while a turn runs it is queued, in order. */
  prompt(id: string, prompt: string | { content: unknown[] }): Promise<{ turnId: string }> {
    return this.request("POST", this.path(id, "/prompt"), typeof prompt === "string" ? { text: prompt } : { content: prompt.content });
  }

  cancel(id: string): Promise<Record<string, unknown>> {
    return this.request("POST", this.path(id, "/cancel"), {});
  }

  /** `{optionId}` for a permission, `{answer}` for a question; a 409 `AirlockApiError` when already answered. */
  answer(id: string, interactionId: string, body: AnswerInteraction): Promise<Record<string, unknown>> {
    return this.request("POST", this.path(id, `/interactions/${encodeURIComponent(interactionId)}`), body);
  }

  keepalive(id: string): Promise<{ idleDeadline: string | null }> {
    return this.request("POST", this.path(id, "/keepalive"), {});
  }

  /** Stops the agent and destroys the sandbox; the event log stays readable. */
  deleteSession(id: string): Promise<Record<string, unknown>> {
    return this.request("DELETE", this.path(id));
  }

  /** One JSON page of the log: events with a seq above `after`. */
  events(id: string, query: { after?: number; limit?: number } = {}, signal?: AbortSignal): Promise<EventsPage> {
    const params = new URLSearchParams({ after: String(query.after ?? 0) });
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    return this.request("GET", this.path(id, `/events?${params}`), undefined, signal);
  }

  /** A folder listing or a file of the session's workspace ("" is the workspace itself). */
  files(id: string, path = ""): Promise<WorkspaceEntry> {
    return this.request("GET", this.path(id, `/files?path=${encodeURIComponent(path)}`));
  }

  /** The workspace's changes since the session began, as a unified diff ("" when nothing changed). */
  async diff(id: string): Promise<string> {
    return (await this.request<{ diff: string }>("GET", this.path(id, "/diff"))).diff;
  }

  /** Follows a session's event log live; see the module comment for the guarantees. */
  subscribe(id: string, options: SubscribeOptions): Subscription {
    const stop = new AbortController();
    const outer = options.signal;
    const onOuterAbort = () => stop.abort();
    if (outer?.aborted) stop.abort();
    else outer?.addEventListener("abort", onOuterAbort, { once: true });
    const initialMs = options.backoff?.initialMs ?? 500;
    const maxMs = options.backoff?.maxMs ?? 10_000;
    const stallMs = options.stallMs ?? 45_000;
    let last = options.after ?? 0;
    let status: SubscriptionStatus | null = null;
    let wentLive = false;
    const setStatus = (next: SubscriptionStatus) => {
      if (next === status || stop.signal.aborted) return;
      status = next;
      options.onStatus?.(next);
    };

    const deliver = (event: AirlockEvent) => {
      if (stop.signal.aborted) return;
      last = event.seq;
      try {
        options.onEvent(event);
      } catch (err) {
        // A consumer's bug must not stall the stream nor make it deliver this event again.
        options.onError?.(err, false);
      }
    };

    /** Delivers the events after `last` up to and including `upTo`, from JSON pages. */
    const fillGap = async (upTo: number) => {
      while (last < upTo && !stop.signal.aborted) {
        const page = await this.events(id, { after: last, limit: Math.min(1000, upTo - last) }, stop.signal);
        const before = last;
        for (const e of page.events) {
          if (e.seq > upTo) break;
          if (e.seq <= last) continue;
          if (e.seq !== last + 1) throw new StreamProblem(`the log skipped from ${last} to ${e.seq}`);
          deliver(e);
        }
        if (last === before) throw new StreamProblem(`events ${last + 1}..${upTo} are not readable yet`);
      }
    };

    const handle = async (event: AirlockEvent) => {
      if (event.seq <= last) return; // already delivered (a replay after a reconnect, or a duplicate frame)
      if (event.seq > last + 1) await fillGap(event.seq - 1);
      if (event.seq === last + 1) deliver(event);
    };

    /** One connection: resolves when the server ended the stream, rejects when it failed. */
    const connect = async (): Promise<void> => {
      const conn = new AbortController();
      const onStop = () => conn.abort();
      stop.signal.addEventListener("abort", onStop, { once: true });
      let stalled = false;
      let watchdog: ReturnType<typeof setTimeout> | undefined;
      const feed = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          stalled = true;
          conn.abort();
        }, stallMs);
      };
      try {
        feed();
        let res: Response;
        try {
          res = await this.fetchImpl(this.baseUrl + this.path(id, "/events"), {
            headers: { accept: "text/event-stream", "last-event-id": String(last), ...this.authHeaders() },
            signal: conn.signal,
          });
        } catch (err) {
          throw new AirlockApiError(0, "unreachable", `could not reach the server: ${(err as Error).message}`, undefined, { cause: err });
        }
        if (!res.ok) throw await apiError(res);
        if (!res.body) throw new StreamProblem("the events response has no body");
        wentLive = true;
        setStatus("live");
        const parser = new SseParser();
        const decoder = new TextDecoder();
        const reader = res.body.getReader();
        // Not every fetch errors its body on abort: cancelling the reader ends a pending read at once.
        const cancelRead = () => void reader.cancel().catch(() => {});
        conn.signal.addEventListener("abort", cancelRead, { once: true });
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (conn.signal.aborted) throw new StreamProblem("the connection was aborted");
            if (done) break;
            feed();
            for (const frame of parser.push(decoder.decode(value, { stream: true }))) {
              if (!frame.data) continue; // a heartbeat or a retry hint
              let event: AirlockEvent;
              try {
                event = JSON.parse(frame.data) as AirlockEvent;
              } catch {
                throw new StreamProblem(`an event frame is not JSON: ${frame.data.slice(0, 80)}`);
              }
              if (typeof event?.seq !== "number") throw new StreamProblem("an event frame has no seq");
              await handle(event);
              if (stop.signal.aborted) return;
            }
          }
        } finally {
          conn.signal.removeEventListener("abort", cancelRead);
          reader.cancel().catch(() => {});
        }
      } catch (err) {
        if (stalled && !stop.signal.aborted) throw new StreamProblem(`no data for ${stallMs} ms`);
        throw err;
      } finally {
        clearTimeout(watchdog);
        stop.signal.removeEventListener("abort", onStop);
      }
    };

    const run = async () => {
      let delay = initialMs;
      setStatus("connecting");
      while (!stop.signal.aborted) {
        wentLive = false;
        try {
          await connect();
          if (stop.signal.aborted) return;
          // The server ends the stream once the log is final; anything else (a proxy, a restart) is a drop.
          const session = await this.getSession(id);
          if (session.final) {
            if (last < session.lastSeq) await fillGap(session.lastSeq);
            setStatus("ended");
            return;
          }
          options.onError?.(new StreamProblem("the event stream ended early"), false);
        } catch (err) {
          if (stop.signal.aborted) return;
          if (isFatal(err)) {
            options.onError?.(err, true);
            throw err;
          }
          options.onError?.(err, false);
        }
        if (stop.signal.aborted) return;
        setStatus("reconnecting");
        if (wentLive) delay = initialMs; // it was working: a single drop is retried soon
        await sleep(delay * (0.8 + Math.random() * 0.4), stop.signal);
        delay = Math.min(delay * 2, maxMs);
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

  private path(id: string, rest = ""): string {
    return `/v1/sessions/${encodeURIComponent(id)}${rest}`;
  }

  private authHeaders(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers: { accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}), ...this.authHeaders() },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new AirlockApiError(0, "unreachable", `could not reach the server: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (!res.ok) throw await apiError(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }
}

/** Errors that another attempt cannot fix: bad credentials, no such session, a malformed request. */
function isFatal(err: unknown): boolean {
  return AirlockApiError.is(err) && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}

async function apiError(res: Response): Promise<AirlockApiError> {
  const text = await res.text().catch(() => "");
  try {
    const { error } = JSON.parse(text) as { error: { code: string; message: string; details?: unknown } };
    if (typeof error?.code === "string" && typeof error.message === "string") return new AirlockApiError(res.status, error.code, error.message, error.details);
  } catch {
    // not the API's error body (a proxy's page, say): described below
  }
  return new AirlockApiError(res.status, "http_error", `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
