/**
 * @module reply — what a test scripts the fake Anthropic API to answer, and the Messages API shapes made from it.
 */

export interface ToolUse {
  name: string;
  input: unknown;
  id?: string;
}

/** One content block, for replies that need an explicit order (e.g. text, then a tool call, then more text). */
export type Block =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature?: string }
  | ({ type: "tool_use" } & ToolUse);

export interface ScriptedError {
  /** HTTP status: 400, 401, 403, 404, 413, 429, 500, 529 ... */
  status: number;
  /** Anthropic's error type: `invalid_request_error`, `rate_limit_error`, `api_error`, `overloaded_error` ... */
  type: string;
  message: string;
  /** Sent as `retry-after` (seconds), as the real API does on 429. */
  retryAfterSec?: number;
  /** Sent as `x-should-retry`: Anthropic's SDKs (and so Claude Code) obey it instead of retrying by status. */
  shouldRetry?: boolean;
}

export interface Reply {
  text?: string;
  thinking?: string;
  toolUse?: ToolUse[];
  /** The content blocks in this exact order; when given, `text`, `thinking` and `toolUse` are ignored. */
  content?: Block[];
  stopReason?: "end_turn" | "tool_use" | "max_tokens" | "stop_sequence" | "pause_turn" | "refusal";
  /** Delay before each streamed delta, for slow streams. */
  delayMs?: number;
  /**
   * Streaming only: the wait between `message_start` and the first content block (ms), as a real model's
   * time to first token (hundreds of ms and more) — for measurements that must not race the turn's set-up.
   */
  firstTokenMs?: number;
  /** How many deltas each block is streamed in (default 3). */
  pieces?: number;
  /**
   * Streaming only: each text delta is, instead of a piece of `text`, the wall-clock time it was written at
   * (`⏱` and ms since the epoch, to the microsecond), for latency measurements on the same machine.
   */
  timestamps?: boolean;
  /** Answer with this HTTP error (Anthropic's error body) instead of a message. */
  error?: ScriptedError;
  /** Streaming only: after this many content blocks, send an SSE `error` event and end the stream (as on overload). */
  streamError?: { afterBlocks: number; type: string; message: string };
  /** Token counts to report; made up from the text's length when absent. */
  usage?: { input: number; output: number; cacheRead?: number; cacheCreation?: number };
}

let ids = 0;
export const nextId = (prefix: string) => `${prefix}_fake_${(++ids).toString().padStart(6, "0")}`;

export function blocksOf(reply: Reply): Block[] {
  if (reply.content) return reply.content.map((b) => (b.type === "tool_use" ? { ...b, id: b.id ?? nextId("toolu") } : b));
  const out: Block[] = [];
  if (reply.thinking) out.push({ type: "thinking", thinking: reply.thinking });
  if (reply.text) out.push({ type: "text", text: reply.text });
  for (const t of reply.toolUse ?? []) out.push({ type: "tool_use", ...t, id: t.id ?? nextId("toolu") });
  return out;
}

/** The API's JSON for a block; thinking carries a signature as the real API's does. */
export function blockJson(block: Block): Record<string, unknown> {
  if (block.type === "thinking") return { type: "thinking", thinking: block.thinking, signature: block.signature ?? "fake-signature" };
  if (block.type === "text") return { type: "text", text: block.text };
  return { type: "tool_use", id: block.id, name: block.name, input: block.input };
}

export function usageOf(reply: Reply, blocks: Block[]) {
  const length = blocks.reduce((n, b) => n + (b.type === "text" ? b.text.length : b.type === "thinking" ? b.thinking.length : JSON.stringify(b.input).length), 0);
  return {
    input_tokens: reply.usage?.input ?? 100,
    output_tokens: reply.usage?.output ?? Math.max(1, Math.ceil(length / 4)),
    cache_creation_input_tokens: reply.usage?.cacheCreation ?? 0,
    cache_read_input_tokens: reply.usage?.cacheRead ?? 0,
  };
}

export function stopReasonOf(reply: Reply, blocks: Block[]) {
  return reply.stopReason ?? (blocks.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn");
}

/** A whole non-streaming message. */
export function messageJson(model: string, reply: Reply) {
  const blocks = blocksOf(reply);
  return {
    id: nextId("msg"),
    type: "message",
    role: "assistant",
    model,
    content: blocks.map(blockJson),
    stop_reason: stopReasonOf(reply, blocks),
    stop_sequence: null,
    usage: usageOf(reply, blocks),
  };
}
