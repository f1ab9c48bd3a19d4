import { describe, expect, it } from "vitest";
import { UsageMeter } from "./meter.ts";

const stream = [
  `event: message_start\ndata: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":12,"cache_read_input_tokens":30,"cache_creation_input_tokens":5,"output_tokens":1}}}\n\n`,
  `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"message_delta lookalike"}}\n\n`,
  `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":77}}\n\n`,
].join("");

describe("UsageMeter", () => {
  it("reads usage from frames split anywhere, with LF or CRLF line ends", () => {
    for (const text of [stream, stream.replace(/\n/g, "\r\n")]) {
      const meter = new UsageMeter();
      for (const ch of text) meter.feed(ch);
      expect(meter.model).toBe("claude-x");
      expect(meter.counts).toEqual({ input: 12, cacheRead: 30, cacheWrite: 5, output: 77 });
    }
  });

  it("takes the input from message_delta when the API repeats it there", () => {
    const meter = new UsageMeter();
    meter.feed(`data: {"type":"message_start","message":{"model":"m","usage":{"input_tokens":0,"output_tokens":0}}}\n\n`);
    meter.feed(`data: {"type":"message_delta","usage":{"input_tokens":40,"output_tokens":9}}\n\n`);
    expect(meter.counts).toMatchObject({ input: 40, output: 9 });
    expect(meter.seen).toBe(true);
  });
});
