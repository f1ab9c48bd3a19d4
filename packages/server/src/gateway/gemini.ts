/**
 * @module gemini — the LLM gateway's Gemini API (Google's Generative Language API: `/v1beta/models/M:
 * generateContent`, `:streamGenerateContent?alt=sse`, `:countTokens`), used by Gemini CLI through its
 * `GOOGLE_GEMINI_BASE_URL` "gateway" mode, with the session's token as `x-goog-api-key`. Usage comes from
 * `usageMetadata`, which every streamed chunk repeats cumulatively; cached input is priced apart and
 * thinking tokens are billed as output.
 */
import type { Hono } from "hono";
import type { UsageReader } from "./meter.ts";
import type { TokenCounts } from "./pricing.ts";
import { type Dialect, type GatewayOptions, llmProxy } from "./proxy.ts";

interface GeminiUsage {
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

export const countsOf = (u: GeminiUsage): TokenCounts => {
  const cached = u.cachedContentTokenCount ?? 0;
  return {
    input: Math.max(0, (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0) - cached),
    cacheRead: cached,
    cacheWrite: 0,
    output: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
  };
};

export const geminiUsage: UsageReader = {
  mayCarry: (frame) => frame.includes("usageMetadata"),
  read(event, meter) {
    const chunk = Array.isArray(event) ? event.at(-1) : event;
    if (chunk?.usageMetadata) meter.counts = countsOf(chunk.usageMetadata);
    meter.model = chunk?.modelVersion ?? meter.model;
  },
};

/** Google's error statuses by HTTP status, for the gateway's own refusals. */
const statusNames: Record<number, string> = { 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 413: "INVALID_ARGUMENT", 499: "CANCELLED", 502: "UNAVAILABLE" };

export const geminiDialect: Dialect = {
  id: "gemini",
  api: "Gemini API",
  defaultHost: "generativelanguage.googleapis.com",
  keyVariable: "GEMINI_API_KEY",
  baseVariable: "GOOGLE_GEMINI_BASE_URL",
  versions: ["v1beta", "v1", "v1alpha"],
  baseIncludesV1: false,
  keyParams: ["key"],
  requestHeaders: ["content-type", "accept", "user-agent", "x-goog-api-client"],
  answerHeader: (name) => ["retry-after", "x-request-id"].includes(name),
  authorize: (headers, credential) => headers.set("x-goog-api-key", credential.value),
  errorTypes: { auth: "UNAUTHENTICATED", invalid: "INVALID_ARGUMENT", tooLarge: "INVALID_ARGUMENT", upstream: "UNAVAILABLE" },
  errorBody: (type, message, status) => ({ error: { code: status, message, status: statusNames[status] ?? type } }),
  usage: geminiUsage,
  usageOfBody(body) {
    const b = body as { modelVersion?: string; usageMetadata?: GeminiUsage };
    return b?.usageMetadata && b.modelVersion !== undefined ? { model: b.modelVersion, counts: countsOf(b.usageMetadata) } : null;
  },
};

export function geminiGateway(options: GatewayOptions): Hono {
  return llmProxy(geminiDialect, options);
}
