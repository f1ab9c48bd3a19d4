/**
 * @module output — the one way out to stdout. The SDK's messages and `burst`'s raw lines go through the same
 * queue, so a raw line can never overtake a message the SDK handed over earlier, and both wait for `drain`
 * when the reader is slow (back-pressure instead of unbounded buffering).
 */
import { once } from "node:events";
import type { Writable } from "node:stream";

export class Output {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly out: Writable) {}

  /** Queues `chunk` behind everything written so far; resolves once the stream has taken it. */
  write(chunk: string | Uint8Array): Promise<void> {
    const written = this.tail.then(() => this.writeNow(chunk));
    this.tail = written.catch(() => {});
    return written;
  }

  /** A web stream view for `acp.ndJsonStream`. */
  writable(): WritableStream<Uint8Array> {
    return new WritableStream({ write: (chunk) => this.write(chunk) });
  }

  private async writeNow(chunk: string | Uint8Array): Promise<void> {
    if (this.out.destroyed) throw new Error("output closed");
    if (!this.out.write(chunk)) await once(this.out, "drain");
  }
}
