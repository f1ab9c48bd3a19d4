/**
 * @module meter — reads the token counts out of an Anthropic answer as it passes: `message_start` carries the
 * input tokens, `message_delta` the output so far (newer API versions repeat the input there too).
 */
import type { TokenCounts } from "./pricing.ts";

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** An answer's `usage` as token counts for pricing. */
export const countsOf = (u: AnthropicUsage): TokenCounts => ({
  input: u.input_tokens ?? 0,
  output: u.output_tokens ?? 0,
  cacheRead: u.cache_read_input_tokens ?? 0,
  cacheWrite: u.cache_creation_input_tokens ?? 0,
});

/** All input tokens: fresh, cache reads and cache writes. */
export const totalInput = (c: TokenCounts) => c.input + (c.cacheRead ?? 0) + (c.cacheWrite ?? 0);

/** Fed the SSE text chunk by chunk (frames may be split anywhere); keeps the latest counts. */
export class UsageMeter {
  model = "";
  counts: TokenCounts = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  private buffer = "";

  get seen(): boolean {
    return totalInput(this.counts) > 0 || this.counts.output > 0;
  }

  feed(text: string): void {
    // Normalised on the whole buffer: a CRLF may be split between two chunks.
    this.buffer = (this.buffer + text).replace(/\r\n/g, "\n");
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      // Only two event types carry usage; skip parsing the thousands of deltas.
      if (!frame.includes("message_start") && !frame.includes("message_delta")) continue;
      const data = frame
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart())
        .join("\n");
      try {
        this.take(JSON.parse(data));
      } catch {
        // not JSON: nothing to count
      }
    }
  }

  private take(event: { type?: string; message?: { model?: string; usage?: AnthropicUsage }; usage?: AnthropicUsage }): void {
    if (event.type === "message_start") {
      this.model = event.message?.model ?? this.model;
      this.counts = countsOf(event.message?.usage ?? {});
    } else if (event.type === "message_delta" && event.usage) {
      const next = countsOf(event.usage);
      this.counts = {
        output: event.usage.output_tokens ?? this.counts.output,
        // Counts are cumulative: a delta that repeats the input replaces it.
        ...(totalInput(next) > 0 ? { input: next.input, cacheRead: next.cacheRead, cacheWrite: next.cacheWrite } : { input: this.counts.input, cacheRead: this.counts.cacheRead, cacheWrite: this.counts.cacheWrite }),
      };
    }
  }
}
