import { describe, expect, it } from "vitest";
import { anthropicUsage } from "./anthropic.ts";
import { UsageMeter } from "./meter.ts";
import { openaiUsage } from "./openai.ts";

const stream = [
  `event: message_start\ndata: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":12,"cache_read_input_tokens":30,"cache_creation_input_tokens":5,"output_tokens":1}}}\n\n`,
  `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"message_delta lookalike"}}\n\n`,
  `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":77}}\n\n`,
].join("");

describe("UsageMeter, Anthropic", () => {
  it("reads usage from frames split anywhere, with LF or CRLF line ends", () => {
    for (const text of [stream, stream.replace(/\n/g, "\r\n")]) {
      const meter = new UsageMeter(anthropicUsage);
      for (const ch of text) meter.feed(ch);
      expect(meter.model).toBe("claude-x");
      expect(meter.counts).toEqual({ input: 12, cacheRead: 30, cacheWrite: 5, output: 77 });
    }
  });

  it("takes the input from message_delta when the API repeats it there", () => {
    const meter = new UsageMeter(anthropicUsage);
    meter.feed(`data: {"type":"message_start","message":{"model":"m","usage":{"input_tokens":0,"output_tokens":0}}}\n\n`);
    meter.feed(`data: {"type":"message_delta","usage":{"input_tokens":40,"output_tokens":9}}\n\n`);
    expect(meter.counts).toMatchObject({ input: 40, output: 9 });
    expect(meter.seen).toBe(true);
  });
});

describe("UsageMeter, OpenAI", () => {
  it("reads the Responses API's response.completed, cached input apart", () => {
    const meter = new UsageMeter(openaiUsage);
    meter.feed(`event: response.created\ndata: {"type":"response.created","response":{"model":"gpt-5-codex","usage":null}}\n\n`);
    meter.feed(`event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"hi"}\n\n`);
    meter.feed(`event: response.completed\ndata: {"type":"response.completed","response":{"model":"gpt-5-codex","usage":{"input_tokens":1000,"input_tokens_details":{"cached_tokens":600},"output_tokens":50}}}\n\n`);
    expect(meter.model).toBe("gpt-5-codex");
    expect(meter.counts).toEqual({ input: 400, cacheRead: 600, cacheWrite: 0, output: 50 });
  });

  it("reads Chat Completions' final usage chunk", () => {
    const meter = new UsageMeter(openaiUsage);
    meter.feed(`data: {"object":"chat.completion.chunk","model":"gpt-4o","choices":[{"delta":{"content":"x"}}]}\n\n`);
    meter.feed(`data: {"object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":7}}\n\ndata: [DONE]\n\n`);
    expect(meter.counts).toEqual({ input: 30, cacheRead: 0, cacheWrite: 0, output: 7 });
  });
});
