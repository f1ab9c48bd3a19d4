/**
 * @module sse — an incremental parser of the `text/event-stream` format (WHATWG HTML, "server-sent events").
 *
 * Pure and synchronous: `push` takes whatever text the network delivered (a frame may arrive in any number of
 * pieces, split anywhere, even between `\r` and `\n`) and returns the frames it completed. Comments (`:` lines,
 * which servers send as heartbeats) come back as frames too, so a reader can tell a quiet stream from a dead one.
 */

/** One dispatched frame of an event stream. */
export interface SseFrame {
  /** The `id:` field; `undefined` when the frame had none. */
  id?: string;
  /** The `event:` field; "message" when absent, as the standard says. */
  event: string;
  /** The `data:` lines joined with "\n"; "" for a comment-only frame. */
  data: string;
  /** The `retry:` field in milliseconds, when present and valid. */
  retry?: number;
  /** The comment lines (without the leading `:`), when the frame had any. */
  comments?: string[];
}

/**
 * Reads `text/event-stream` incrementally; see the module comment.
 *
 * @example
 * const parser = new SseParser();
 * for (const frame of parser.push(chunkOfText)) if (frame.data) handle(JSON.parse(frame.data));
 */
export class SseParser {
  private buffer = "";
  /** A chunk ended with "\r": a "\n" starting the next one belongs to the same line ending. */
  private pendingCr = false;
  private frame: { id?: string; event?: string; data: string[]; retry?: number; comments: string[] } = { data: [], comments: [] };

  /** Feeds decoded text; returns the frames it completed, in order. */
  push(text: string): SseFrame[] {
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = text.endsWith("\r");
    this.buffer += text;
    const out: SseFrame[] = [];
    let start = 0;
    for (;;) {
      const m = /\r\n|\r|\n/g;
      m.lastIndex = start;
      const found = m.exec(this.buffer);
      // A lone "\r" at the very end may be the first half of "\r\n": it still ends the line (pendingCr skips the "\n").
      if (!found) break;
      const line = this.buffer.slice(start, found.index);
      start = found.index + found[0].length;
      const frame = this.line(line);
      if (frame) out.push(frame);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string): SseFrame | null {
    const f = this.frame;
    if (line === "") {
      if (f.data.length === 0 && f.comments.length === 0 && f.id === undefined && f.retry === undefined) return null;
      this.frame = { data: [], comments: [] };
      const frame: SseFrame = { event: f.event || "message", data: f.data.join("\n") };
      if (f.id !== undefined) frame.id = f.id;
      if (f.retry !== undefined) frame.retry = f.retry;
      if (f.comments.length) frame.comments = f.comments;
      return frame;
    }
    if (line.startsWith(":")) {
      f.comments.push(line.slice(1).replace(/^ /, ""));
      return null;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") f.data.push(value);
    else if (field === "event") f.event = value;
    else if (field === "id" && !value.includes("\0")) f.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) f.retry = Number(value);
    return null;
  }
}
