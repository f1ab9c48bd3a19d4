/**
 * @module lines — splits a byte stream (the agent's stdout) into lines, bounded in length.
 *
 * Works on bytes: a line is decoded once, whole, so a chunk boundary inside a UTF-8 character is harmless,
 * and the newline search only ever scans new bytes (a 16 MB line arriving in 64 KB chunks stays linear).
 */

const newline = 10;
const headBytes = 200;

export interface LineSink {
  line(text: string): void;
  /** A line longer than the bound: dropped; `head` is its beginning. */
  oversize(bytes: number, head: string): void;
}

export class LineSplitter {
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** Set while skipping the rest of an oversized line. */
  private skipping: { bytes: number; head: string } | null = null;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: LineSink,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(newline, start);
      if (nl < 0) {
        if (start < chunk.length) this.keep(chunk.subarray(start));
        return;
      }
      this.complete(chunk, start, nl);
      start = nl + 1;
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (this.skipping) {
      this.sink.oversize(this.skipping.bytes, this.skipping.head);
      this.skipping = null;
    } else if (this.pieceBytes > 0) {
      const text = Buffer.concat(this.pieces).toString("utf8");
      this.pieces = [];
      this.pieceBytes = 0;
      this.sink.line(text);
    }
  }

  private keep(part: Buffer): void {
    if (this.skipping) {
      this.skipping.bytes += part.length;
      return;
    }
    if (this.pieceBytes + part.length > this.maxLineBytes) {
      const whole = Buffer.concat([...this.pieces, part.subarray(0, headBytes)]);
      this.skipping = { bytes: this.pieceBytes + part.length, head: whole.toString("utf8", 0, Math.min(whole.length, headBytes)) };
      this.pieces = [];
      this.pieceBytes = 0;
      return;
    }
    this.pieces.push(part);
    this.pieceBytes += part.length;
  }

  private complete(chunk: Buffer, start: number, nl: number): void {
    const length = nl - start;
    if (this.skipping) {
      this.sink.oversize(this.skipping.bytes + length, this.skipping.head);
      this.skipping = null;
      return;
    }
    if (this.pieceBytes + length > this.maxLineBytes) {
      const head = Buffer.concat([...this.pieces, chunk.subarray(start, Math.min(nl, start + headBytes))]);
      this.sink.oversize(this.pieceBytes + length, head.toString("utf8", 0, Math.min(head.length, headBytes)));
    } else if (this.pieceBytes === 0) {
      this.sink.line(chunk.toString("utf8", start, nl));
    } else {
      this.sink.line(Buffer.concat([...this.pieces, chunk.subarray(start, nl)]).toString("utf8"));
    }
    this.pieces = [];
    this.pieceBytes = 0;
  }
}
