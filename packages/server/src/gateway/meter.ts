/**
 * @module meter — reads the token counts out of an Anthropic answer as it passes: `message_start` carries the
 * input tokens, `message_delta` the output so far (newer API versions repeat the input there too).
 */

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Input tokens as billed: fresh, cache writes and cache reads. */
export const inputOf = (u: AnthropicUsage) => (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);

/** Fed the SSE text chunk by chunk (frames may be split anywhere); keeps the latest counts. */
export class UsageMeter {
  model = "";
  input = 0;
  output = 0;
  private buffer = "";

  get seen(): boolean {
    return this.input > 0 || this.output > 0;
  }

  feed(text: string): void {
    this.buffer += text.replace(/\r\n/g, "\n");
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
      this.input = inputOf(event.message?.usage ?? {});
      this.output = event.message?.usage?.output_tokens ?? 0;
    } else if (event.type === "message_delta" && event.usage) {
      this.output = event.usage.output_tokens ?? this.output;
      const input = inputOf(event.usage);
      if (input > 0) this.input = input;
    }
  }
}
