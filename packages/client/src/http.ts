/**
 * @module http — one place where requests are made: base URL, API key, JSON, errors, and retries.
 *
 * A call is retried only when doing it twice cannot do anything twice: reads (`GET`), `DELETE` (deleting a
 * deleted session is a no-op), and `POST`s that carry an `Idempotency-Key` (the server answers a repeated key
 * with the first answer). Only failures that another attempt may fix are retried (`AirlockApiError.retryable`:
 * unreachable, 408, 429, 502-504), with jittered exponential backoff, honouring `Retry-After`.
 */
import { AirlockApiError, apiError, unreachable } from "./errors.ts";

/** How a call retries safe failures. */
export interface RetryOptions {
  /** Attempts after the first (default 4; 0 turns retries off). */
  retries?: number;
  /** The first delay, doubled each attempt up to `maxDelayMs` (defaults 250 and 4,000). */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** Options of an `AirlockClient`. */
export interface ClientOptions {
  /** Where the server is, e.g. `http://127.0.0.1:4600`; "" (the default) means the page's own origin. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** A `fetch` to use instead of the global one (to watch responses, add headers, or test). */
  fetch?: typeof fetch;
  /** Retries of safe failures (see the module comment). */
  retry?: RetryOptions;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (and its retries). */
  signal?: AbortSignal;
  /**
   * The idempotency key of a prompt or an answer. One is made for every call when not given; give your own to
   * make a retry after *your* process restarted safe too.
   */
  idempotencyKey?: string;
}

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  signal?: AbortSignal;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

export class Transport {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly apiKey: string | undefined;
  private readonly retries: number;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    // Called bare, a browser's `fetch` throws "Illegal invocation" when it is not bound to the window.
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.retries = options.retry?.retries ?? 4;
    this.initialDelayMs = options.retry?.initialDelayMs ?? 250;
    this.maxDelayMs = options.retry?.maxDelayMs ?? 4000;
  }

  authHeaders(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  /** One fetch, with the server's absence turned into an `AirlockApiError` (status 0). */
  async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(this.baseUrl + path, init);
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw unreachable(this.baseUrl, err);
    }
  }

  /** A JSON call; retried as the module comment says. */
  async request<T>(spec: RequestSpec): Promise<T> {
    const safe = spec.method === "GET" || spec.method === "DELETE" || spec.idempotencyKey !== undefined;
    let delay = this.initialDelayMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(spec);
      } catch (err) {
        if (!safe || attempt >= this.retries || !AirlockApiError.is(err) || !err.retryable || spec.signal?.aborted) throw err;
        const hinted = retryAfterMs(err);
        await sleep(hinted ?? delay * (0.8 + Math.random() * 0.4), spec.signal);
        if (spec.signal?.aborted) throw err;
        delay = Math.min(delay * 2, this.maxDelayMs);
      }
    }
  }

  private async once<T>(spec: RequestSpec): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json", ...this.authHeaders(), ...spec.headers };
    if (spec.body !== undefined) headers["content-type"] = "application/json";
    if (spec.idempotencyKey !== undefined) headers["idempotency-key"] = spec.idempotencyKey;
    const res = await this.fetch(spec.path, {
      method: spec.method,
      headers,
      body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
      signal: spec.signal,
    });
    if (!res.ok) {
      const err = await apiError(res);
      const after = res.headers.get("retry-after");
      if (after && /^\d+$/.test(after)) (err as { retryAfterMs?: number }).retryAfterMs = Math.min(Number(after) * 1000, 60_000);
      throw err;
    }
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }
}

const retryAfterMs = (err: AirlockApiError): number | undefined => (err as { retryAfterMs?: number }).retryAfterMs;

/** A fresh idempotency key: 128 random bits as hex (`crypto.randomUUID` is missing on plain-HTTP pages). */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let out = "idk_";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** `/v1/sessions/<id><rest>` with the id escaped. */
export const sessionPath = (id: string, rest = ""): string => `/v1/sessions/${encodeURIComponent(id)}${rest}`;
