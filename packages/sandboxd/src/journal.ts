/**
 * @module journal — the append-only journal: one JSON record per line, `seq` = line number (from 1, gapless).
 *
 * Lines are built around the agent's raw JSON (never re-serialized), written to the file in batches once per
 * tick, and kept in a bounded in-memory tail so live readers never touch the disk. A sparse index (the byte
 * offset of every 1024th line) lets a read from an old offset seek instead of scanning.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";

const indexEvery = 1024;

export class Journal {
  private fd: number;
  private fileBytes = 0;
  private lastSeq = 0;
  private pending: string[] = [];
  private flushScheduled = false;
  /** Lines kept in memory: tail[i] is line `tailStart + i`. */
  private tail: string[] = [];
  private tailStart = 1;
  private tailBytes = 0;
  /** offsets[k] = byte offset of line k * indexEvery + 1. */
  private offsets: number[] = [0];
  private listeners = new Set<() => void>();

  constructor(
    readonly path: string,
    private readonly maxTailBytes = 8 * 1024 * 1024,
  ) {
    const existed = existsSync(path);
    this.fd = openSync(path, existed ? "r+" : "w+", 0o600);
    if (existed) this.recover();
  }

  get seq(): number {
    return this.lastSeq;
  }

  /** Appends a record; `body` is the JSON text after `"kind":…` without the closing brace, e.g. `,"msg":{…}`. */
  append(kind: string, body: string): number {
    const seq = ++this.lastSeq;
    const line = `{"seq":${seq},"at":${Date.now()},"kind":"${kind}"${body}}\n`;
    this.pending.push(line);
    this.tail.push(line);
    this.tailBytes += line.length;
    if (this.tailBytes > this.maxTailBytes) this.trimTail();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return seq;
  }

  /** Drops the oldest quarter of the tail at once: shifting line by line is quadratic on a long tail. */
  private trimTail(): void {
    let drop = 0;
    let bytes = this.tailBytes;
    while (bytes > this.maxTailBytes * 0.75 && drop < this.tail.length - 1) bytes -= this.tail[drop++].length;
    this.tail = this.tail.slice(drop);
    this.tailBytes = bytes;
    this.tailStart += drop;
  }

  /** Writes what is pending and wakes readers. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const firstSeq = this.lastSeq - this.pending.length + 1;
    const chunk = this.pending.join("");
    // Index every 1024th line by its byte offset.
    let offset = this.fileBytes;
    for (let i = 0; i < this.pending.length; i++) {
      const seq = firstSeq + i;
      if ((seq - 1) % indexEvery === 0) this.offsets[(seq - 1) / indexEvery] = offset;
      offset += Buffer.byteLength(this.pending[i]);
    }
    this.pending = [];
    const buf = Buffer.from(chunk);
    let written = 0;
    while (written < buf.length) written += writeSync(this.fd, buf, written, buf.length - written, this.fileBytes + written);
    this.fileBytes += buf.length;
    for (const l of [...this.listeners]) l();
  }

  /** Lines with seq > after, at most `limit`; from memory when possible, else from the file. */
  read(after: number, limit: number): string[] {
    const from = after + 1;
    if (from > this.lastSeq) return [];
    const written = this.lastSeq - this.pending.length;
    if (from >= this.tailStart) {
      const start = from - this.tailStart;
      // Only hand out what is on disk: a reader must never see a line that a crash could lose.
      const end = Math.min(start + limit, written - this.tailStart + 1);
      return end > start ? this.tail.slice(start, end) : [];
    }
    return this.readFile(from, Math.min(limit, written - from + 1));
  }

  /** Calls `listener` after each flush; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private readFile(from: number, count: number): string[] {
    const block = Math.floor((from - 1) / indexEvery);
    let position = this.offsets[block] ?? 0;
    let line = block * indexEvery + 1;
    const out: string[] = [];
    const buf = Buffer.alloc(256 * 1024);
    let carry = "";
    while (out.length < count && position < this.fileBytes) {
      const n = readSync(this.fd, buf, 0, buf.length, position);
      if (n <= 0) break;
      position += n;
      const text = carry + buf.toString("utf8", 0, n);
      let start = 0;
      let nl: number;
      while ((nl = text.indexOf("\n", start)) >= 0 && out.length < count) {
        if (line >= from) out.push(text.slice(start, nl + 1));
        line++;
        start = nl + 1;
      }
      carry = text.slice(start);
    }
    return out;
  }

  /** Rebuilds seq and the index from an existing file (sandboxd restarted for the same session). */
  private recover(): void {
    const size = fstatSync(this.fd).size;
    const buf = Buffer.alloc(1024 * 1024);
    let position = 0;
    let lines = 0;
    let lastNewlineEnd = 0;
    while (position < size) {
      const n = readSync(this.fd, buf, 0, Math.min(buf.length, size - position), position);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) {
        if (buf[i] !== 10) continue;
        lines++;
        lastNewlineEnd = position + i + 1;
        if (lines % indexEvery === 0) this.offsets[lines / indexEvery] = lastNewlineEnd;
      }
      position += n;
    }
    // A torn last line (crash mid-write) is cut off.
    if (lastNewlineEnd < size) ftruncateSync(this.fd, lastNewlineEnd);
    this.fileBytes = lastNewlineEnd;
    this.lastSeq = lines;
    this.tailStart = lines + 1;
  }
}
