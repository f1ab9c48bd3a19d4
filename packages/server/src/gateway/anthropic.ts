/**
 * @module anthropic — the LLM gateway's Anthropic Messages API (`/v1/messages`, with or without `?beta=true`,
 * `x-api-key` or Bearer), used by Claude Code and OpenCode. Usage comes from `message_start` (input, cache)
 * and `message_delta` (output so far; newer API versions repeat the input there).
 */
import type { Hono } from "hono";
import type { UsageReader } from "./meter.ts";
import type { TokenCounts } from "./pricing.ts";
import { oauthBeta } from "../secrets/credentials.ts";
import { type Dialect, type GatewayOptions, llmProxy } from "./proxy.ts";

export type { GatewayOptions, GatewaySessions } from "./proxy.ts";

interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export const countsOf = (u: AnthropicUsage): TokenCounts => ({
  input: u.input_tokens ?? 0,
  output: u.output_tokens ?? 0,
  cacheRead: u.cache_read_input_tokens ?? 0,
  cacheWrite: u.cache_creation_input_tokens ?? 0,
});

export const anthropicUsage: UsageReader = {
  mayCarry: (frame) => frame.includes("message_start") || frame.includes("message_delta"),
  read(event, meter) {
    if (event.type === "message_start") {
      meter.model = event.message?.model ?? meter.model;
      meter.counts = countsOf(event.message?.usage ?? {});
    } else if (event.type === "message_delta" && event.usage) {
      const next = countsOf(event.usage);
      const repeatsInput = next.input + (next.cacheRead ?? 0) + (next.cacheWrite ?? 0) > 0;
      // Counts are cumulative: a delta that repeats the input replaces it.
      meter.counts = { ...(repeatsInput ? next : meter.counts), output: event.usage.output_tokens ?? meter.counts.output };
    }
  },
};

export const anthropicDialect: Dialect = {
  id: "anthropic",
  api: "Anthropic API",
  defaultHost: "api.anthropic.com",
  keyVariable: "ANTHROPIC_API_KEY",
  baseVariable: "ANTHROPIC_BASE_URL",
  versions: ["v1"],
  baseIncludesV1: false,
  requestHeaders: ["content-type", "accept", "anthropic-version", "anthropic-beta", "user-agent"],
  answerHeader: (name) => ["request-id", "retry-after", "x-should-retry"].includes(name) || name.startsWith("anthropic-ratelimit-"),
  // A Claude subscription's OAuth token goes as Bearer with the beta flag Claude Code sends for it, added to the
  // flags the agent asked for; never as x-api-key.
  authorize(headers, credential) {
    if (credential.kind === "apiKey") return headers.set("x-api-key", credential.value);
    headers.set("authorization", `Bearer ${credential.value}`);
    const flags = (headers.get("anthropic-beta") ?? "").split(",").map((f) => f.trim()).filter(Boolean);
    if (!flags.includes(oauthBeta)) headers.set("anthropic-beta", [...flags, oauthBeta].join(","));
  },
  errorTypes: { auth: "authentication_error", invalid: "invalid_request_error", tooLarge: "request_too_large", upstream: "api_error" },
  errorBody: (type, message) => ({ type: "error", error: { type, message } }),
  usage: anthropicUsage,
  usageOfBody(body) {
    const b = body as { model?: string; usage?: AnthropicUsage };
    return b?.usage ? { model: b.model ?? "", counts: countsOf(b.usage) } : null;
  },
};

export function anthropicGateway(options: GatewayOptions): Hono {
  const app = llmProxy(anthropicDialect, options);
  // Claude Code probes its base URL with `HEAD /`; Anthropic's host answers 404.
  app.on("HEAD", "/", (c) => c.body(null, 404));
  return app;
}
