/**
 * @module anthropic — the LLM gateway's Anthropic Messages API: agents call it with their session's gateway
 * token; it forwards to the real upstream with the real key, streams the answer back as it comes, counts
 * tokens and cost per session and turn, and refuses calls once the session's budget is spent.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { type AnthropicUsage, UsageMeter, countsOf, totalInput } from "./meter.ts";
import { type Price, type TokenCounts, costUsd } from "./pricing.ts";
import type { GatewayTokens } from "./tokens.ts";

export interface GatewaySessions {
  /** The session behind a token, if it is alive; null when it has ended. */
  gatewaySession(sessionId: string): Promise<{ budgetUsd: number | null; costUsd: number } | null>;
  recordUsage(sessionId: string, usage: { inputTokens: number; outputTokens: number; costUsd: number; model?: string }): Promise<void>;
  reportError(sessionId: string, message: string, code: string): Promise<void>;
}

export interface GatewayOptions {
  tokens: GatewayTokens;
  sessions: GatewaySessions;
  upstreamUrl: string;
  apiKey: string | null;
  prices: Record<string, Price>;
}

/** The Messages API accepts 32 MB requests; so does the gateway. */
const maxRequestBytes = 32 * 1024 * 1024;
const requestHeaders = ["content-type", "accept", "anthropic-version", "anthropic-beta", "user-agent"];
/** What agents' SDKs read from an answer: retry advice, request ids for bug reports, rate-limit state. */
const answerHeader = (name: string) => ["content-type", "request-id", "retry-after", "x-should-retry"].includes(name) || name.startsWith("anthropic-ratelimit-");

export function anthropicGateway(options: GatewayOptions): Hono {
  const app = new Hono();
  // The session keeps one error event per problem and turn, however often an agent retries.
  const report = (sessionId: string, message: string, code: string) => options.sessions.reportError(sessionId, message, code).catch(() => {});
  // Claude Code probes its base URL with `HEAD /`; Anthropic's host answers 404.
  app.on("HEAD", "/", (c) => c.body(null, 404));
  app.use("/v1/*", bodyLimit({ maxSize: maxRequestBytes, onError: (c) => anthropicError(c, 413, "request_too_large", `Airlock gateway: requests are limited to ${maxRequestBytes} bytes`) }));
  app.all("/v1/*", async (c) => {
    const token = c.req.header("x-api-key") ?? c.req.header("authorization")?.replace(/^Bearer\s+/i, "");
    const sessionId = options.tokens.verify(token);
    if (!sessionId) return anthropicError(c, 401, "authentication_error", "Airlock gateway: this token is not a valid session gateway token");
    const session = await options.sessions.gatewaySession(sessionId);
    if (!session) return anthropicError(c, 401, "authentication_error", "Airlock gateway: this session has ended; its gateway token is no longer valid");
    if (session.budgetUsd !== null && session.costUsd >= session.budgetUsd) {
      const message = `Airlock: this session's budget of $${session.budgetUsd} is spent ($${session.costUsd.toFixed(4)} used). Raise it with PATCH /v1/sessions/${sessionId} {"budgetUsd": ...} to go on.`;
      await report(sessionId, message, "budget_exceeded");
      // 400 invalid_request_error, like Anthropic's own "credit balance is too low": agents show it and stop
      // instead of retrying.
      return anthropicError(c, 400, "invalid_request_error", message);
    }
    if (!options.apiKey && options.upstreamUrl.includes("api.anthropic.com")) {
      const message = "Airlock gateway has no upstream key: set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for another Anthropic-compatible upstream)";
      await report(sessionId, message, "no_credentials");
      return anthropicError(c, 401, "authentication_error", message);
    }

    const url = new URL(c.req.url);
    const path = url.pathname.slice(url.pathname.indexOf("/v1/"));
    const headers = new Headers();
    for (const name of requestHeaders) {
      const value = c.req.header(name);
      if (value) headers.set(name, value);
    }
    if (options.apiKey) headers.set("x-api-key", options.apiKey);
    let upstream: Response;
    try {
      upstream = await fetch(options.upstreamUrl.replace(/\/$/, "") + path + url.search, {
        method: c.req.method,
        headers,
        body: c.req.method === "GET" || c.req.method === "HEAD" ? undefined : await c.req.arrayBuffer(),
        signal: c.req.raw.signal,
      });
    } catch (err) {
      if (c.req.raw.signal.aborted) return anthropicError(c, 499, "api_error", "Airlock gateway: the client went away");
      const message = `the LLM upstream (${options.upstreamUrl}) could not be reached: ${(err as Error).message}`;
      await report(sessionId, message, "upstream_unreachable");
      return anthropicError(c, 502, "api_error", `Airlock gateway: ${message}`);
    }
    const answer = new Headers();
    upstream.headers.forEach((value, name) => answerHeader(name) && answer.set(name, value));
    if (!upstream.ok) {
      const text = await upstream.text();
      let detail = text;
      try {
        detail = JSON.parse(text).error?.message ?? text;
      } catch {}
      await report(sessionId, `the LLM upstream answered ${upstream.status}: ${detail}`, "upstream_error");
      return new Response(text, { status: upstream.status, headers: answer });
    }

    const record = (model: string, counts: TokenCounts) =>
      options.sessions
        .recordUsage(sessionId, { inputTokens: totalInput(counts), outputTokens: counts.output, costUsd: costUsd(options.prices, model, counts), model })
        .catch(() => {});
    if ((answer.get("content-type") ?? "").includes("text/event-stream") && upstream.body) {
      answer.set("cache-control", "no-cache");
      return new Response(metered(upstream.body, (m) => m.seen && void record(m.model, m.counts)), { status: upstream.status, headers: answer });
    }
    const text = await upstream.text();
    try {
      const body = JSON.parse(text) as { model?: string; usage?: AnthropicUsage };
      if (body.usage) await record(body.model ?? "", countsOf(body.usage));
    } catch {}
    return new Response(text, { status: upstream.status, headers: answer });
  });
  return app;
}

/**
 * Passes every chunk on as it arrives (no buffering: the agent sees tokens as the model makes them) and reads
 * the usage on the side. `done` runs once: at the end, on an upstream error, or when the agent hangs up
 * (a cancelled turn still used the tokens streamed so far).
 */
function metered(body: ReadableStream<Uint8Array>, done: (meter: UsageMeter) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const meter = new UsageMeter();
  const decoder = new TextDecoder();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done(meter);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          finish();
          controller.close();
          return;
        }
        meter.feed(decoder.decode(value, { stream: true }));
        controller.enqueue(value);
      } catch (err) {
        finish();
        controller.error(err);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason).catch(() => {});
    },
  });
}

function anthropicError(c: Context, status: number, type: string, message: string): Response {
  return c.json({ type: "error", error: { type, message } }, status as 400);
}
