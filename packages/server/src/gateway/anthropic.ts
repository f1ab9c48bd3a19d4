/**
 * @module anthropic — the LLM gateway's Anthropic Messages API: agents call it with their session's gateway
 * token; it forwards to the real upstream with the real key, streams the answer back as it comes, counts
 * tokens and cost per session and turn, and refuses calls once the session's budget is spent.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { type Price, costUsd } from "./pricing.ts";
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

const forwardedHeaders = ["content-type", "accept", "anthropic-version", "anthropic-beta", "user-agent", "x-stainless-helper-method"];

export function anthropicGateway(options: GatewayOptions): Hono {
  const app = new Hono();
  // An agent retries and makes side calls: say "budget spent" once a minute, not once a call.
  const budgetReported = new Map<string, number>();
  app.on("HEAD", "/", (c) => c.body(null, 404));
  app.all("/v1/*", async (c) => {
    const token = c.req.header("x-api-key") ?? c.req.header("authorization")?.replace(/^Bearer\s+/i, "");
    const sessionId = options.tokens.verify(token);
    if (!sessionId) return anthropicError(c, 401, "authentication_error", "Airlock gateway: this token is not a valid session gateway token");
    const session = await options.sessions.gatewaySession(sessionId);
    if (!session) return anthropicError(c, 401, "authentication_error", "Airlock gateway: this session has ended; its gateway token is no longer valid");
    if (session.budgetUsd !== null && session.costUsd >= session.budgetUsd) {
      const message = `Airlock: this session's budget of $${session.budgetUsd} is spent ($${session.costUsd.toFixed(4)} used). Raise it with PATCH /v1/sessions/${sessionId} {"budgetUsd": ...} to go on.`;
      if ((budgetReported.get(sessionId) ?? 0) < Date.now() - 60_000) {
        budgetReported.set(sessionId, Date.now());
        await options.sessions.reportError(sessionId, message, "budget_exceeded");
      }
      return anthropicError(c, 400, "invalid_request_error", message);
    }
    if (!options.apiKey && options.upstreamUrl.includes("api.anthropic.com")) {
      const message = "Airlock gateway has no upstream key: set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for another Anthropic-compatible upstream)";
      await options.sessions.reportError(sessionId, message, "no_credentials");
      return anthropicError(c, 401, "authentication_error", message);
    }

    const url = new URL(c.req.url);
    const path = url.pathname.slice(url.pathname.indexOf("/v1/"));
    const headers = new Headers();
    for (const name of forwardedHeaders) {
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
      const message = `the LLM upstream (${options.upstreamUrl}) could not be reached: ${(err as Error).message}`;
      await options.sessions.reportError(sessionId, message, "upstream_unreachable");
      return anthropicError(c, 502, "api_error", `Airlock gateway: ${message}`);
    }
    if (!upstream.ok) {
      const text = await upstream.text();
      let detail = text;
      try {
        detail = JSON.parse(text).error?.message ?? text;
      } catch {}
      await options.sessions.reportError(sessionId, `the LLM upstream answered ${upstream.status}: ${detail}`, "upstream_error");
      return new Response(text, { status: upstream.status, headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" } });
    }

    const record = (model: string, input: number, output: number) =>
      options.sessions.recordUsage(sessionId, { inputTokens: input, outputTokens: output, costUsd: costUsd(options.prices, model, input, output), model });
    const type = upstream.headers.get("content-type") ?? "";
    if (type.includes("text/event-stream") && upstream.body) {
      // Pass every byte on at once; read the usage on the side.
      const meter = new UsageMeter();
      const decoder = new TextDecoder();
      const tee = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          controller.enqueue(chunk);
          meter.feed(decoder.decode(chunk, { stream: true }));
        },
        flush() {
          void record(meter.model, meter.input, meter.output).catch(() => {});
        },
      });
      return new Response(upstream.body.pipeThrough(tee), { status: 200, headers: { "content-type": type, "cache-control": "no-cache" } });
    }
    const text = await upstream.text();
    try {
      const body = JSON.parse(text);
      if (body.usage) await record(body.model ?? "", inputOf(body.usage), body.usage.output_tokens ?? 0);
    } catch {}
    return new Response(text, { status: 200, headers: { "content-type": type || "application/json" } });
  });
  return app;
}

/** Reads `message_start` and `message_delta` usage out of an Anthropic SSE stream. */
class UsageMeter {
  model = "";
  input = 0;
  output = 0;
  private buffer = "";

  feed(text: string): void {
    this.buffer += text;
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = frame.split("\n").find((l) => l.startsWith("data:"));
      if (!data || !(frame.includes("message_start") || frame.includes("message_delta"))) continue;
      try {
        const event = JSON.parse(data.slice(5));
        if (event.type === "message_start") {
          this.model = event.message?.model ?? this.model;
          this.input = inputOf(event.message?.usage ?? {});
          this.output = event.message?.usage?.output_tokens ?? 0;
        } else if (event.type === "message_delta" && event.usage) {
          this.output = event.usage.output_tokens ?? this.output;
          if (event.usage.input_tokens) this.input = inputOf(event.usage);
        }
      } catch {}
    }
  }
}

const inputOf = (u: { input_tokens?: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number }) =>
  (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);

function anthropicError(c: Context, status: number, type: string, message: string): Response {
  return c.json({ type: "error", error: { type, message } }, status as 400);
}
