/**
 * @module proxy — what every API of the LLM gateway does, whatever the API's dialect: agents call it with
 * their session's gateway token; it forwards to the real upstream with the real key, streams the answer back
 * as it comes, counts tokens and cost per session and turn, and refuses calls once the session's budget is
 * spent. A `Dialect` (anthropic.ts, openai.ts) says how that API spells credentials, errors and usage.
 */
import { type IncomingMessage, type ServerResponse, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { type Context, Hono } from "hono";
import { readBody } from "../http/body.ts";
import { UsageMeter, type UsageReader } from "./meter.ts";
import { type Price, type TokenCounts, costUsd } from "./pricing.ts";
import type { GatewayTokens } from "./tokens.ts";
import type { LlmCredentials, UpstreamApi, UpstreamCredential } from "../secrets/credentials.ts";

export interface GatewaySessions {
  /**
   * The session behind a token, if it is alive; null when it has ended. `credentials`: its tenant's own LLM
   * credentials, used instead of the server's key.
   */
  gatewaySession(sessionId: string): Promise<{ budgetUsd: number | null; costUsd: number; credentials?: LlmCredentials } | null>;
  recordUsage(sessionId: string, usage: { inputTokens: number; outputTokens: number; costUsd: number; model?: string }): Promise<void>;
  reportError(sessionId: string, message: string, code: string): Promise<void>;
}

export interface GatewayOptions {
  tokens: GatewayTokens;
  sessions: GatewaySessions;
  /** The real API's base URL, as its clients take it (`https://api.anthropic.com`, `https://api.openai.com/v1`). */
  upstreamUrl: string;
  apiKey: string | null;
  prices: Record<string, Price>;
}

export interface Dialect {
  /** Which tenant credential it takes. */
  id: UpstreamApi;
  /** The API's name in messages. */
  api: string;
  /** Where the real API lives unless configured; without a key it cannot be called. */
  defaultHost: string;
  /** The environment variables that configure the upstream, for messages. */
  keyVariable: string;
  baseVariable: string;
  /** The API's version path segments the gateway serves (`v1`; Gemini's `v1beta` too). */
  versions: string[];
  /** True when the upstream base URL already ends in `/v1` (OpenAI's convention; Anthropic's omits it). */
  baseIncludesV1: boolean;
  /** Query parameters that carry a key and must not travel upstream (Gemini's `key`). */
  keyParams?: string[];
  /** Request headers passed on to the upstream (never the agent's credentials). */
  requestHeaders: string[];
  /** Answer headers passed back (retry advice, request ids, rate-limit state). */
  answerHeader(name: string): boolean;
  /** Sets the upstream's credentials (the request's own were never copied). */
  authorize(headers: Headers, credential: Pick<UpstreamCredential, "kind" | "value">): void;
  errorTypes: { auth: string; invalid: string; tooLarge: string; upstream: string };
  errorBody(type: string, message: string, status: number): unknown;
  /** Reads usage out of the answer's SSE events as they pass. */
  usage: UsageReader;
  /** Usage of a whole (non-streaming) answer. */
  usageOfBody(body: unknown): { model: string; counts: TokenCounts } | null;
}

/** APIs accept requests of tens of MB (images, long conversations); so does the gateway. */
const maxRequestBytes = 32 * 1024 * 1024;

export function llmProxy(dialect: Dialect, options: GatewayOptions): Hono {
  const app = new Hono();
  const fail = (status: number, type: string, message: string) => Response.json(dialect.errorBody(type, message, status), { status });
  // The session keeps one error event per problem and turn, however often an agent retries.
  const report = (sessionId: string, message: string, code: string) => options.sessions.reportError(sessionId, message, code).catch(() => {});

  const handle = async (c: Context) => {
    const node = c.env as Partial<HttpBindings> | undefined;
    const url = new URL(c.req.url);
    const token =
      c.req.header("x-api-key") ??
      c.req.header("x-goog-api-key") ??
      c.req.header("authorization")?.replace(/^Bearer\s+/i, "") ??
      (dialect.keyParams ?? []).map((p) => url.searchParams.get(p)).find((v) => v) ??
      undefined;
    const sessionId = options.tokens.verify(token);
    if (!sessionId) return fail(401, dialect.errorTypes.auth, "Airlock gateway: this token is not a valid session gateway token");
    const session = await options.sessions.gatewaySession(sessionId);
    if (!session) return fail(401, dialect.errorTypes.auth, "Airlock gateway: this session has ended; its gateway token is no longer valid");
    if (session.budgetUsd !== null && session.costUsd >= session.budgetUsd) {
      const message = `Airlock: this session's budget of $${session.budgetUsd} is spent ($${session.costUsd.toFixed(4)} used). Raise it with PATCH /v1/sessions/${sessionId} {"budgetUsd": ...} to go on.`;
      await report(sessionId, message, "budget_exceeded");
      // A 400 "invalid request", like Anthropic's own "credit balance is too low": agents show it and stop
      // instead of retrying (they retry 429 and 5xx).
      return fail(400, dialect.errorTypes.invalid, message);
    }
    // The tenant's own credential, else the server's key.
    const credential = session.credentials?.[dialect.id] ?? (options.apiKey ? { kind: "apiKey" as const, value: options.apiKey } : null);
    if (!credential && options.upstreamUrl.includes(dialect.defaultHost)) {
      const message = `Airlock gateway has no key for the ${dialect.api}: set ${dialect.keyVariable} (or ${dialect.baseVariable} for another compatible upstream)`;
      await report(sessionId, message, "no_credentials");
      return fail(401, dialect.errorTypes.auth, message);
    }

    const version = dialect.versions.map((v) => url.pathname.indexOf(`/${v}/`)).filter((i) => i >= 0).sort((a, b) => a - b)[0] ?? 0;
    const rest = url.pathname.slice(version + (dialect.baseIncludesV1 ? 3 : 0));
    for (const p of dialect.keyParams ?? []) url.searchParams.delete(p);
    const headers = new Headers();
    for (const name of dialect.requestHeaders) {
      const value = c.req.header(name);
      if (value) headers.set(name, value);
    }
    if (credential) dialect.authorize(headers, credential);
    const body = await readBody(c, maxRequestBytes);
    if (body === null) return fail(413, dialect.errorTypes.tooLarge, `Airlock gateway: requests are limited to ${maxRequestBytes} bytes`);
    const hungUp = hangUpSignal(c, node?.outgoing);
    let upstream: IncomingMessage;
    try {
      upstream = await callUpstream(new URL(options.upstreamUrl.replace(/\/$/, "") + rest + url.search), c.req.method, headers, body, hungUp);
    } catch (err) {
      if (hungUp.aborted) return fail(499, dialect.errorTypes.upstream, "Airlock gateway: the client went away");
      const message = `the LLM upstream (${options.upstreamUrl}) could not be reached: ${(err as Error).message}`;
      await report(sessionId, message, "upstream_unreachable");
      return fail(502, dialect.errorTypes.upstream, `Airlock gateway: ${message}`);
    }
    const status = upstream.statusCode ?? 502;
    const answer = new Headers();
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && (name === "content-type" || dialect.answerHeader(name))) answer.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    if (status < 200 || status > 299) {
      const text = await textOf(upstream);
      let detail = text;
      try {
        detail = JSON.parse(text).error?.message ?? text;
      } catch {}
      await report(sessionId, `the LLM upstream answered ${status}: ${detail}`, "upstream_error");
      return new Response(text, { status, headers: answer });
    }

    const record = (model: string, counts: TokenCounts) =>
      options.sessions
        .recordUsage(sessionId, { inputTokens: totalInput(counts), outputTokens: counts.output, costUsd: costUsd(options.prices, model, counts), model })
        .catch(() => {});
    if ((answer.get("content-type") ?? "").includes("text/event-stream")) {
      answer.set("cache-control", "no-cache");
      const meter = new UsageMeter(dialect.usage);
      metered(upstream, meter, () => meter.seen && void record(meter.model, meter.counts));
      const outgoing = node?.outgoing;
      if (!outgoing) return new Response(Readable.toWeb(upstream) as ReadableStream<Uint8Array>, { status, headers: answer });
      streamTo(outgoing, upstream, status, answer);
      return RESPONSE_ALREADY_SENT;
    }
    const text = await textOf(upstream);
    try {
      const usage = dialect.usageOfBody(JSON.parse(text));
      if (usage) await record(usage.model, usage.counts);
    } catch {}
    return new Response(text, { status, headers: answer });
  };
  for (const version of dialect.versions) app.all(`/${version}/*`, handle);
  return app;
}

/** All input tokens: fresh, cache reads and cache writes. */
export const totalInput = (c: TokenCounts) => c.input + (c.cacheRead ?? 0) + (c.cacheWrite ?? 0);

/** Aborted when the agent hangs up (its answer's connection closes before the upstream answered). */
export function hangUpSignal(c: Context, outgoing: ServerResponse | undefined): AbortSignal {
  if (!outgoing) return c.req.raw.signal;
  const abort = new AbortController();
  outgoing.once("close", () => abort.abort());
  return abort.signal;
}

/**
 * Calls the upstream with node:http(s) (keep-alive agents): its answer arrives as a Node stream, so a token
 * goes from the upstream's socket to the agent's with one write, not through layers of web streams.
 */
export function callUpstream(url: URL, method: string, headers: Headers, body: Buffer | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers: Object.fromEntries(headers), signal }, resolve);
    req.once("error", reject);
    req.end(body);
  });
}

/**
 * Reads the usage off a streamed answer as it passes. `done` runs once: at the end, on an upstream error, or
 * when the agent hangs up (a cancelled turn still used the tokens streamed so far).
 */
function metered(upstream: IncomingMessage, meter: UsageMeter, done: () => void): void {
  const decoder = new TextDecoder();
  upstream.on("data", (chunk: Buffer) => meter.feed(decoder.decode(chunk, { stream: true })));
  upstream.once("close", done);
}

/** Passes every chunk on as it arrives (no buffering: the agent sees tokens as the model makes them). */
export function streamTo(outgoing: ServerResponse, upstream: IncomingMessage, status: number, headers: Headers): void {
  outgoing.writeHead(status, Object.fromEntries(headers));
  outgoing.flushHeaders();
  upstream.on("data", (chunk: Buffer) => {
    if (!outgoing.write(chunk)) upstream.pause();
  });
  outgoing.on("drain", () => upstream.resume());
  upstream.once("end", () => outgoing.end());
  // The agent hung up, or the upstream broke off: end the other side too.
  outgoing.once("close", () => upstream.destroy());
  upstream.once("error", () => outgoing.destroy());
  if (outgoing.destroyed) upstream.destroy();
}

function textOf(stream: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    stream.once("error", reject);
  });
}
