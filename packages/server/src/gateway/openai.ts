/**
 * @module openai — the LLM gateway's OpenAI API, used by Codex: the Responses API (`/v1/responses`, what Codex
 * speaks) and Chat Completions (`/v1/chat/completions`), streaming or not, with the session's token as Bearer
 * key. Usage comes from `response.completed` (Responses) or the final chunk's `usage` (Chat Completions, with
 * `stream_options.include_usage`). OpenAI counts cached input inside `input_tokens`; it is priced apart.
 */
import type { Hono } from "hono";
import type { UsageReader } from "./meter.ts";
import type { TokenCounts } from "./pricing.ts";
import { type Dialect, type GatewayOptions, llmProxy } from "./proxy.ts";

interface OpenAIUsage {
  input_tokens?: number;
  output_tokens?: number;
  input_tokens_details?: { cached_tokens?: number };
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
}

export const countsOf = (u: OpenAIUsage): TokenCounts => {
  const input = u.input_tokens ?? u.prompt_tokens ?? 0;
  const cached = u.input_tokens_details?.cached_tokens ?? u.prompt_tokens_details?.cached_tokens ?? 0;
  return { input: Math.max(0, input - cached), cacheRead: cached, cacheWrite: 0, output: u.output_tokens ?? u.completion_tokens ?? 0 };
};

const finalEvents = ["response.completed", "response.incomplete", "response.failed"];

export const openaiUsage: UsageReader = {
  mayCarry: (frame) => frame.includes('"usage"') || frame.includes("response.created"),
  read(event, meter) {
    if (typeof event.type === "string" && event.type.startsWith("response.")) {
      meter.model = event.response?.model ?? meter.model;
      if (finalEvents.includes(event.type) && event.response?.usage) meter.counts = countsOf(event.response.usage);
    } else if (event.object === "chat.completion.chunk") {
      meter.model = event.model ?? meter.model;
      if (event.usage) meter.counts = countsOf(event.usage);
    }
  },
};

export const openaiDialect: Dialect = {
  id: "openai",
  api: "OpenAI API",
  defaultHost: "api.openai.com",
  keyVariable: "OPENAI_API_KEY",
  baseVariable: "OPENAI_BASE_URL",
  versions: ["v1"],
  baseIncludesV1: true,
  requestHeaders: ["content-type", "accept", "user-agent", "openai-beta"],
  answerHeader: (name) => ["x-request-id", "retry-after", "retry-after-ms"].includes(name) || name.startsWith("x-ratelimit-"),
  authorize: (headers, credential) => headers.set("authorization", `Bearer ${credential.value}`),
  errorTypes: { auth: "invalid_api_key", invalid: "invalid_request_error", tooLarge: "invalid_request_error", upstream: "server_error" },
  errorBody: (type, message) => ({ error: { message, type, param: null, code: type } }),
  usage: openaiUsage,
  usageOfBody(body) {
    const b = body as { model?: string; usage?: OpenAIUsage };
    return b?.usage ? { model: b.model ?? "", counts: countsOf(b.usage) } : null;
  },
};

export function openaiGateway(options: GatewayOptions): Hono {
  return llmProxy(openaiDialect, options);
}
