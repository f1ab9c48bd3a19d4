/**
 * @module client — a typed client for Airlock's HTTP API, for browsers and Node alike (only `fetch` and web
 * streams). `subscribe` reads a session's SSE stream and resumes after a drop from the last event it
 * delivered, so a consumer sees every event once, in order.
 *
 * @example
 * const airlock = new AirlockClient({ baseUrl: "http://127.0.0.1:4600" });
 * const session = await airlock.createSession({ agent: "scripted" });
 * const stop = airlock.subscribe(session.id, { onEvent: (e) => console.log(e.seq, e.type) });
 * await airlock.prompt(session.id, "tool");
 */
import type { AgentView, AnswerInteraction, CreateSession, SessionView } from "./api.ts";
import type { AirlockEvent } from "./events.ts";
import type { WorkspaceEntry } from "./provider.ts";

export class AirlockApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AirlockApiError";
  }
}

export interface ClientOptions {
  baseUrl?: string;
  apiKey?: string;
  fetch?: typeof fetch;
}

export type ConnectionState = "connecting" | "live" | "reconnecting" | "closed";

export interface SubscribeOptions {
  /** Deliver events with seq > after (default 0: the whole log). */
  after?: number;
  onEvent(event: AirlockEvent): void;
  onState?(state: ConnectionState): void;
  signal?: AbortSignal;
}

export class AirlockClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? "").replace(/\/$/, "");
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
  }

  health(): Promise<Record<string, unknown>> {
    return this.request("GET", "/healthz");
  }
  async agents(): Promise<AgentView[]> {
    return (await this.request<{ agents: AgentView[] }>("GET", "/v1/agents")).agents;
  }
  createSession(body: CreateSession): Promise<SessionView> {
    return this.request("POST", "/v1/sessions", body);
  }
  listSessions(query: { status?: string; before?: string; limit?: number; metadata?: Record<string, string> } = {}): Promise<{ sessions: SessionView[]; nextCursor: string | null }> {
    const params = new URLSearchParams();
    if (query.status) params.set("status", query.status);
    if (query.before) params.set("before", query.before);
    if (query.limit) params.set("limit", String(query.limit));
    for (const [k, v] of Object.entries(query.metadata ?? {})) params.set(`metadata.${k}`, v);
    const qs = params.toString();
    return this.request("GET", `/v1/sessions${qs ? `?${qs}` : ""}`);
  }
  getSession(id: string): Promise<SessionView> {
    return this.request("GET", `/v1/sessions/${encodeURIComponent(id)}`);
  }
  prompt(id: string, prompt: string | { content: unknown[] }): Promise<{ turnId: string }> {
    return this.request("POST", `/v1/sessions/${encodeURIComponent(id)}/prompt`, typeof prompt === "string" ? { text: prompt } : prompt);
  }
  cancel(id: string): Promise<{ cancelled: boolean }> {
    return this.request("POST", `/v1/sessions/${encodeURIComponent(id)}/cancel`, {});
  }
  answer(id: string, interactionId: string, body: AnswerInteraction): Promise<Record<string, unknown>> {
    return this.request("POST", `/v1/sessions/${encodeURIComponent(id)}/interactions/${encodeURIComponent(interactionId)}`, body);
  }
  keepalive(id: string): Promise<{ idleDeadline: string | null }> {
    return this.request("POST", `/v1/sessions/${encodeURIComponent(id)}/keepalive`, {});
  }
  deleteSession(id: string): Promise<unknown> {
    return this.request("DELETE", `/v1/sessions/${encodeURIComponent(id)}`);
  }
  events(id: string, query: { after?: number; limit?: number } = {}): Promise<{ events: AirlockEvent[]; nextAfter: number }> {
    return this.request("GET", `/v1/sessions/${encodeURIComponent(id)}/events?after=${query.after ?? 0}&limit=${query.limit ?? 1000}`);
  }
  files(id: string, path = ""): Promise<WorkspaceEntry> {
    return this.request("GET", `/v1/sessions/${encodeURIComponent(id)}/files?path=${encodeURIComponent(path)}`);
  }
  async diff(id: string): Promise<string> {
    return (await this.request<{ diff: string }>("GET", `/v1/sessions/${encodeURIComponent(id)}/diff`)).diff;
  }

  /**
   * Follows a session's events live. Reconnects with backoff after a drop, resuming after the last delivered
   * seq; an event is delivered only if its seq is exactly the next one (a gap is filled from JSON pages).
   * Returns a function that stops it.
   */
  subscribe(id: string, options: SubscribeOptions): () => void {
    const abort = new AbortController();
    options.signal?.addEventListener("abort", () => abort.abort(), { once: true });
    let last = options.after ?? 0;
    const deliver = (event: AirlockEvent) => {
      if (event.seq <= last) return;
      last = event.seq;
      options.onEvent(event);
    };
    const run = async () => {
      let delay = 250;
      options.onState?.("connecting");
      while (!abort.signal.aborted) {
        try {
          const res = await this.fetchImpl(`${this.baseUrl}/v1/sessions/${encodeURIComponent(id)}/events`, {
            headers: { accept: "text/event-stream", "last-event-id": String(last), ...this.authHeaders() },
            signal: abort.signal,
          });
          if (res.status === 401 || res.status === 404) throw await apiError(res);
          if (!res.ok || !res.body) throw new Error(`events stream answered ${res.status}`);
          options.onState?.("live");
          delay = 250;
          for await (const event of parseSse(res.body)) {
            if (event.seq > last + 1) {
              // A gap (should not happen): read what is missing before going on.
              for (let page = await this.events(id, { after: last }); page.events.length && last < event.seq - 1; page = await this.events(id, { after: last })) {
                for (const e of page.events) if (e.seq < event.seq) deliver(e);
              }
            }
            deliver(event);
          }
          if (abort.signal.aborted) break;
          // The server ends the stream when the log is final.
          options.onState?.("closed");
          return;
        } catch (err) {
          if (abort.signal.aborted) break;
          if (err instanceof AirlockApiError) {
            options.onState?.("closed");
            throw err;
          }
          options.onState?.("reconnecting");
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5000);
        }
      }
      options.onState?.("closed");
    };
    void run().catch(() => {});
    return () => abort.abort();
  }

  private authHeaders(): Record<string, string> {
    return this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {};
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetchImpl(`${this.baseUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...this.authHeaders() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw await apiError(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }
}

async function apiError(res: Response): Promise<AirlockApiError> {
  const text = await res.text();
  try {
    const { error } = JSON.parse(text) as { error: { code: string; message: string; details?: unknown } };
    return new AirlockApiError(res.status, error.code, error.message, error.details);
  } catch {
    return new AirlockApiError(res.status, "http_error", text || `HTTP ${res.status}`);
  }
}

/** Parses an SSE byte stream into Airlock events (comments and heartbeats skipped). */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<AirlockEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let data = "";
        for (const line of frame.split("\n")) {
          if (line.startsWith("data:")) data += (data ? "\n" : "") + line.slice(line.startsWith("data: ") ? 6 : 5);
        }
        if (data) yield JSON.parse(data) as AirlockEvent;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
