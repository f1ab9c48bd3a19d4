/**
 * @module llm — one streamed Messages API call through Anthropic's SDK, with retries.
 *
 * Deltas reach the handlers as they arrive (nothing is buffered), and a tool_use block is handed over the
 * moment its `content_block_stop` arrives, so its tool can start while the model is still writing the rest.
 * A call that fails with 429, 5xx, an overload or a lost connection is retried with backoff (the server's
 * `retry-after` wins; `x-should-retry: false` forbids it) — but only while nothing has been handed over yet:
 * once a delta was shown or a tool started, a retry would show or do it twice. Every other 4xx is an
 * `LlmError` whose message says what the API answered.
 */
import Anthropic, { APIConnectionError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import type { ContentBlockParam, MessageCreateParamsStreaming, StopReason, ToolUseBlockParam } from "@anthropic-ai/sdk/resources/messages";
import { socketFetch } from "./socket-fetch.ts";

export interface StreamHandlers {
  text(delta: string): Promise<void>;
  thinking(delta: string): Promise<void>;
  /** A complete tool_use block (its input parsed). */
  toolUse(block: ToolUseBlockParam): void;
  /** Before a retry: why, and how long until it. */
  retrying?(error: LlmError, delayMs: number, attempt: number): Promise<void>;
}

export interface Usage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface LlmResult {
  /** The assistant message's complete blocks, ready to send back in the next request. */
  content: ContentBlockParam[];
  stopReason: StopReason | null;
  usage: Usage;
}

export class LlmError extends Error {
  override readonly name = "LlmError";
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** From `retry-after` / `retry-after-ms`. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /** What had arrived whole before the failure (set once a stream had begun). */
  partial?: ContentBlockParam[];
}

/** The call was cancelled; `partial` holds what had arrived complete (and the text cut short). */
export class LlmAborted extends Error {
  override readonly name = "LlmAborted";
  constructor(readonly partial: ContentBlockParam[]) {
    super("cancelled");
  }
}

export interface LlmOptions {
  baseUrl?: string;
  apiKey?: string;
  /** Reach `baseUrl` through this unix socket. */
  socketPath?: string;
  maxRetries: number;
  retryBaseMs: number;
}

const maxBackoffMs = 30_000;

export class Llm {
  private readonly client: Anthropic;

  constructor(private readonly options: LlmOptions) {
    // Retries are ours (see above); the SDK's would repeat calls whose deltas were already shown.
    this.client = new Anthropic({
      baseURL: options.baseUrl,
      apiKey: options.apiKey ?? "missing",
      maxRetries: 0,
      timeout: 10 * 60_000,
      ...(options.socketPath ? { fetch: socketFetch(options.socketPath) } : {}),
    });
  }

  async stream(params: Omit<MessageCreateParamsStreaming, "stream">, handlers: StreamHandlers, signal: AbortSignal): Promise<LlmResult> {
    for (let attempt = 0; ; attempt++) {
      let handedOver = false;
      const tracked: StreamHandlers = {
        text: (d) => ((handedOver = true), handlers.text(d)),
        thinking: (d) => ((handedOver = true), handlers.thinking(d)),
        toolUse: (b) => ((handedOver = true), handlers.toolUse(b)),
      };
      try {
        return await this.once(params, tracked, signal);
      } catch (err) {
        if (err instanceof LlmAborted) throw err;
        const error = err as LlmError;
        if (!error.retryable || handedOver || attempt >= this.options.maxRetries) throw error;
        const delay = error.retryAfterMs ?? Math.min(maxBackoffMs, this.options.retryBaseMs * 2 ** attempt * (0.75 + Math.random() / 2));
        await handlers.retrying?.(error, delay, attempt + 1);
        await sleep(delay, signal);
        if (signal.aborted) throw new LlmAborted([]);
      }
    }
  }

  private async once(params: Omit<MessageCreateParamsStreaming, "stream">, handlers: StreamHandlers, signal: AbortSignal): Promise<LlmResult> {
    const blocks = new Map<number, Building>();
    const done: Array<{ index: number; block: ContentBlockParam }> = [];
    const usage: Usage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    let stopReason: StopReason | null = null;
    let stopped = false;
    const complete = () => done.sort((a, b) => a.index - b.index).map((d) => d.block);
    const partial = () => [...complete(), ...[...blocks.values()].flatMap((b) => (b.type === "text" && b.text ? [{ type: "text" as const, text: b.text }] : []))];

    try {
      const stream = await this.client.messages.create({ ...params, stream: true }, { signal });
      for await (const event of stream) {
        switch (event.type) {
          case "message_start": {
            const u = event.message.usage;
            usage.input = u.input_tokens ?? 0;
            usage.cacheRead = u.cache_read_input_tokens ?? 0;
            usage.cacheWrite = u.cache_creation_input_tokens ?? 0;
            usage.output = u.output_tokens ?? 0;
            break;
          }
          case "content_block_start": {
            const b = event.content_block;
            if (b.type === "text") blocks.set(event.index, { type: "text", text: b.text ?? "" });
            else if (b.type === "thinking") blocks.set(event.index, { type: "thinking", thinking: b.thinking ?? "", signature: b.signature ?? "" });
            else if (b.type === "redacted_thinking") blocks.set(event.index, { type: "redacted_thinking", data: b.data });
            else if (b.type === "tool_use") blocks.set(event.index, { type: "tool_use", id: b.id, name: b.name, json: "" });
            break;
          }
          case "content_block_delta": {
            const b = blocks.get(event.index);
            const d = event.delta;
            if (!b) break;
            if (d.type === "text_delta" && b.type === "text") {
              b.text += d.text;
              await handlers.text(d.text);
            } else if (d.type === "thinking_delta" && b.type === "thinking") {
              b.thinking += d.thinking;
              await handlers.thinking(d.thinking);
            } else if (d.type === "signature_delta" && b.type === "thinking") b.signature += d.signature;
            else if (d.type === "input_json_delta" && b.type === "tool_use") b.json += d.partial_json;
            break;
          }
          case "content_block_stop": {
            const b = blocks.get(event.index);
            if (!b) break;
            blocks.delete(event.index);
            const block = finish(b);
            done.push({ index: event.index, block });
            if (block.type === "tool_use") handlers.toolUse(block);
            break;
          }
          case "message_delta":
            stopReason = event.delta.stop_reason ?? stopReason;
            if (event.usage?.output_tokens !== undefined && event.usage.output_tokens !== null) usage.output = event.usage.output_tokens;
            break;
          case "message_stop":
            stopped = true;
            break;
        }
      }
    } catch (err) {
      if (signal.aborted || err instanceof APIUserAbortError) throw new LlmAborted(partial());
      const error = classify(err, this.options.baseUrl);
      error.partial = partial();
      throw error;
    }
    // The SDK ends the iteration quietly when its request is aborted.
    if (signal.aborted) throw new LlmAborted(partial());
    if (!stopped) throw Object.assign(new LlmError("the LLM's answer stream ended before the message was complete", true), { partial: partial() });
    return { content: complete(), stopReason, usage };
  }
}

type Building =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "redacted_thinking"; data: string }
  | { type: "tool_use"; id: string; name: string; json: string };

function finish(b: Building): ContentBlockParam {
  if (b.type !== "tool_use") return b;
  let input: unknown = {};
  if (b.json.trim()) {
    try {
      input = JSON.parse(b.json);
    } catch {
      // Kept as given: the tool's input check tells the model its arguments were not valid JSON.
      input = { __invalid_json__: b.json };
    }
  }
  return { type: "tool_use", id: b.id, name: b.name, input };
}

const retryableStatus = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;
const retryableTypes = new Set(["overloaded_error", "api_error", "rate_limit_error", "timeout_error"]);

/** Any failure of a call as an LlmError: retryable or not, with a message a user can act on. */
export function classify(err: unknown, baseUrl?: string): LlmError {
  if (err instanceof LlmError) return err;
  if (err instanceof APIConnectionError) return new LlmError(`could not reach the LLM API${baseUrl ? ` at ${baseUrl}` : ""}: ${err.message}`, true);
  if (err instanceof APIError) {
    const body = err.error as { error?: { type?: string; message?: string } } | undefined;
    const type = body?.error?.type ?? err.type ?? "error";
    const detail = body?.error?.message ?? err.message;
    const headers = err.headers;
    const retryAfterMs = retryAfter(headers);
    if (err.status === undefined) {
      // An `error` event inside a 200 stream (an overload mid-answer).
      return new LlmError(`the LLM API failed mid-answer (${type}): ${detail}`, retryableTypes.has(type), undefined, retryAfterMs);
    }
    const shouldRetry = headers?.get("x-should-retry");
    const retryable = shouldRetry === "true" || (shouldRetry !== "false" && retryableStatus(err.status));
    const what = retryable ? "failed" : "refused the request";
    return new LlmError(`the LLM API ${what} (${err.status} ${type}): ${detail}`, retryable, err.status, retryAfterMs);
  }
  return new LlmError(`the LLM call failed: ${(err as Error)?.message ?? String(err)}`, false);
}

function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get("retry-after-ms"));
  if (headers?.get("retry-after-ms") && Number.isFinite(ms) && ms >= 0) return Math.min(ms, 5 * 60_000);
  const raw = headers?.get("retry-after");
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 5 * 60_000);
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.min(Math.max(0, date - Date.now()), 5 * 60_000) : undefined;
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
