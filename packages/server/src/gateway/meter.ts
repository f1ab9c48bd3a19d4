/**
 * @module meter — reads token counts out of an SSE answer as it passes, frame by frame (frames may be split
 * anywhere between chunks). What an event means is the API dialect's business (`UsageReader`).
 */
import type { TokenCounts } from "./pricing.ts";

export interface UsageReader {
  /** Cheap test on a frame's text before parsing it: the thousands of token deltas are skipped. */
  mayCarry(frame: string): boolean;
  /** Updates the meter from one event (the frame's `data` parsed). */
  read(event: any, meter: UsageMeter): void;
}

export class UsageMeter {
  model = "";
  counts: TokenCounts = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  private buffer = "";

  constructor(private readonly reader: UsageReader) {}

  get seen(): boolean {
    return this.counts.input + (this.counts.cacheRead ?? 0) + (this.counts.cacheWrite ?? 0) > 0 || this.counts.output > 0;
  }

  feed(text: string): void {
    // Normalised on the whole buffer: a CRLF may be split between two chunks.
    this.buffer = (this.buffer + text).replace(/\r\n/g, "\n");
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      if (!this.reader.mayCarry(frame)) continue;
      const data = frame
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart())
        .join("\n");
      try {
        this.reader.read(JSON.parse(data), this);
      } catch {
        // not JSON: nothing to count
      }
    }
  }
}
