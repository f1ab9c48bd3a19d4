/**
 * @module journal — the append-only journal: one JSON record per line, `seq` from 1, gapless.
 *
 * Lines are built around the agent's raw JSON (never re-serialized) and written to the file in batches, once
 * per tick or when the batch grows past `flushBytes`. A bounded in-memory tail serves live readers without
 * touching the disk. Older records are read from the file: a sparse index (the byte offset of every 1024th
 * record written by this process) lets a read seek instead of scanning; records written before a restart are
 * found by binary search on the `{"seq":N` prefix every line starts with, so a restart reads only the tail.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";

const indexEvery = 1024;
const chunkBytes = 256 * 1024;
const newline = 10;

export interface JournalOptions {
  /** Bytes of recent lines kept in memory (default 8 MB). */
  maxTailBytes?: number;
  /** Pending bytes that trigger a write before the end of the tick (default 1 MB). */
  flushBytes?: number;
  log?: (msg: string) => void;
}

export class Journal {
  private readonly fd: number;
  private readonly maxTailBytes: number;
  private readonly flushBytes: number;
  private readonly log: (msg: string) => void;
  private fileBytes = 0;
  private lastSeq = 0;
  /** Highest seq on disk: readers never see a line a crash could still lose. */
  private writtenSeq = 0;
  private pending: string[] = [];
  private pendingChars = 0;
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Lines kept in memory: tail[i] is the line of seq `tailStart + i`. */
  private tail: string[] = [];
  private tailStart = 1;
  private tailChars = 0;
  /** offsets[k] = byte offset of the line of seq k * indexEvery + 1 (sparse; filled as lines are written or found). */
  private readonly offsets = new Map<number, number>();
  /** Where recent file reads stopped (seq of the next line → its offset): sequential readers continue there. */
  private readonly cursors = new Map<number, number>();
  private readonly listeners = new Set<() => void>();
  private closed = false;

  constructor(
    readonly path: string,
    options: JournalOptions = {},
  ) {
    this.maxTailBytes = options.maxTailBytes ?? 8 * 1024 * 1024;
    this.flushBytes = options.flushBytes ?? 1024 * 1024;
    this.log = options.log ?? (() => {});
    const existed = existsSync(path);
    this.fd = openSync(path, existed ? "r+" : "w+", 0o600);
    if (existed) this.recover();
  }

  /** The last seq handed out (it may still be pending). */
  get seq(): number {
    return this.lastSeq;
  }

  /**
   * Appends a record and returns its seq. `body` is the JSON text that follows `"kind":"…"` without the
   * closing brace, e.g. `,"msg":{…}` — the caller splices raw JSON in, so nothing is serialized twice.
   */
  append(kind: string, body: string): number {
    const seq = ++this.lastSeq;
    const line = '{"seq":' + seq + ',"at":' + Date.now() + ',"kind":"' + kind + '"' + body + "}\n";
    this.pending.push(line);
    this.pendingChars += line.length;
    this.tail.push(line);
    this.tailChars += line.length;
    if (this.tailChars > this.maxTailBytes) this.trimTail();
    if (this.pendingChars >= this.flushBytes) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return seq;
  }

  /** Writes what is pending (one write) and wakes readers. Safe to call at any time. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.closed || this.retryTimer) return;
    const firstSeq = this.writtenSeq + 1;
    const buf = Buffer.from(this.pending.join(""));
    try {
      let written = 0;
      while (written < buf.length) written += writeSync(this.fd, buf, written, buf.length - written, this.fileBytes + written);
    } catch (err) {
      // Disk full or similar: keep the lines and try again; positional writes overwrite any partial write.
      this.log(`journal write failed (${(err as Error).message}); retrying in 1 s`);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.flush();
      }, 1000);
      return;
    }
    let offset = this.fileBytes;
    for (let i = 0; i < this.pending.length; i++) {
      const seq = firstSeq + i;
      if ((seq - 1) % indexEvery === 0) this.offsets.set((seq - 1) / indexEvery, offset);
      offset += Buffer.byteLength(this.pending[i]);
    }
    this.fileBytes += buf.length;
    this.writtenSeq += this.pending.length;
    this.pending = [];
    this.pendingChars = 0;
    for (const listener of [...this.listeners]) listener();
  }

  /**
   * Lines with seq > `after` that are on disk: at most `limit` lines and about `maxBytes` (always at least
   * one line when there is one). From memory when the tail still holds them, else from the file.
   */
  read(after: number, limit: number, maxBytes = 4 * 1024 * 1024): string[] {
    const from = after + 1;
    if (from > this.writtenSeq || limit <= 0) return [];
    const count = Math.min(limit, this.writtenSeq - from + 1);
    if (from >= this.tailStart) {
      const start = from - this.tailStart;
      const out: string[] = [];
      let chars = 0;
      for (let i = start; i < start + count && (out.length === 0 || chars < maxBytes); i++) {
        out.push(this.tail[i]);
        chars += this.tail[i].length;
      }
      return out;
    }
    return this.readFile(from, count, maxBytes);
  }

  /** Calls `listener` after each write; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }

  /** Drops the oldest quarter of the tail at once: shifting line by line is quadratic on a long tail. */
  private trimTail(): void {
    let drop = 0;
    let chars = this.tailChars;
    while (chars > this.maxTailBytes * 0.75 && drop < this.tail.length - 1) chars -= this.tail[drop++].length;
    this.tail = this.tail.slice(drop);
    this.tailChars = chars;
    this.tailStart += drop;
  }

  private readFile(from: number, count: number, maxBytes: number): string[] {
    let position = this.cursors.get(from);
    let seq = from;
    if (position === undefined) ({ position, seq } = this.locate(from));
    const out: string[] = [];
    const buf = Buffer.allocUnsafe(chunkBytes);
    let carry: Buffer[] = [];
    let bytes = 0;
    // Split on newline bytes and decode whole lines only: a chunk boundary may fall inside a UTF-8 character.
    while (out.length < count && (out.length === 0 || bytes < maxBytes) && position < this.fileBytes) {
      const n = readSync(this.fd, buf, 0, Math.min(chunkBytes, this.fileBytes - position), position);
      if (n <= 0) break;
      let start = 0;
      let nl: number;
      while (out.length < count && (out.length === 0 || bytes < maxBytes) && (nl = buf.indexOf(newline, start)) >= 0 && nl < n) {
        if ((seq - 1) % indexEvery === 0) this.offsets.set((seq - 1) / indexEvery, position + start - carryBytes(carry));
        if (seq >= from) {
          const line = carry.length ? Buffer.concat([...carry, buf.subarray(start, nl + 1)]).toString("utf8") : buf.toString("utf8", start, nl + 1);
          out.push(line);
          bytes += line.length;
        }
        carry = [];
        seq++;
        start = nl + 1;
      }
      if (out.length < count && (out.length === 0 || bytes < maxBytes) && start < n) {
        carry.push(Buffer.from(buf.subarray(start, n)));
        start = n;
      }
      position += start;
    }
    position -= carryBytes(carry);
    if (this.cursors.size >= 16) this.cursors.delete(this.cursors.keys().next().value!);
    this.cursors.set(seq, position);
    return out;
  }

  /** The byte offset of a line at or before `target` (and its seq): from the index, else by binary search. */
  private locate(target: number): { position: number; seq: number } {
    const block = Math.floor((target - 1) / indexEvery);
    const indexed = this.offsets.get(block);
    if (indexed !== undefined) return { position: indexed, seq: block * indexEvery + 1 };
    let lo = { position: 0, seq: 1 };
    let hi = this.fileBytes;
    while (hi - lo.position > chunkBytes) {
      const mid = lo.position + Math.floor((hi - lo.position) / 2);
      const found = this.lineAfter(mid, hi);
      if (!found || found.seq > target) hi = mid;
      else lo = found;
    }
    return lo;
  }

  /** The first line starting after byte `from` (and before `end`), with its seq; null when none. */
  private lineAfter(from: number, end: number): { position: number; seq: number } | null {
    const buf = Buffer.allocUnsafe(64 * 1024);
    let position = from;
    while (position < end) {
      const n = readSync(this.fd, buf, 0, Math.min(buf.length, end - position), position);
      if (n <= 0) return null;
      const nl = buf.indexOf(newline);
      if (nl >= 0 && nl < n) {
        const start = position + nl + 1;
        if (start >= end) return null;
        const seq = this.seqAt(start);
        return seq === null ? null : { position: start, seq };
      }
      position += n;
    }
    return null;
  }

  /** The seq of the line starting at byte `position`, read from its `{"seq":N,` prefix. */
  private seqAt(position: number): number | null {
    const buf = Buffer.alloc(32);
    const n = readSync(this.fd, buf, 0, buf.length, position);
    const match = /^\{"seq":(\d+),/.exec(buf.toString("latin1", 0, n));
    return match ? Number(match[1]) : null;
  }

  /**
   * Continues an existing file (sandboxd restarted for the same session) reading only its tail: cuts a torn
   * last line (a crash mid-write) and takes the seq of the last complete one.
   */
  private recover(): void {
    const size = fstatSync(this.fd).size;
    const lastNewline = this.lastNewlineBefore(size);
    const end = lastNewline + 1;
    if (end < size) {
      this.log(`journal: cutting a torn last line of ${size - end} bytes`);
      ftruncateSync(this.fd, end);
    }
    this.fileBytes = end;
    if (end > 0) {
      const start = this.lastNewlineBefore(lastNewline) + 1;
      const seq = this.seqAt(start);
      this.lastSeq = seq ?? this.countLines();
      if (seq === null) this.log("journal: the last line has no seq prefix; counted the lines instead");
    }
    this.writtenSeq = this.lastSeq;
    this.tailStart = this.lastSeq + 1;
  }

  /** The offset of the last newline byte before `end`, or -1. */
  private lastNewlineBefore(end: number): number {
    const buf = Buffer.allocUnsafe(64 * 1024);
    let stop = end;
    while (stop > 0) {
      const start = Math.max(0, stop - buf.length);
      const n = readSync(this.fd, buf, 0, stop - start, start);
      const nl = buf.subarray(0, n).lastIndexOf(newline);
      if (nl >= 0) return start + nl;
      stop = start;
    }
    return -1;
  }

  private countLines(): number {
    const buf = Buffer.allocUnsafe(chunkBytes);
    let lines = 0;
    for (let position = 0; position < this.fileBytes; ) {
      const n = readSync(this.fd, buf, 0, Math.min(chunkBytes, this.fileBytes - position), position);
      if (n <= 0) break;
      for (let i = buf.indexOf(newline); i >= 0 && i < n; i = buf.indexOf(newline, i + 1)) lines++;
      position += n;
    }
    return lines;
  }
}

function carryBytes(carry: Buffer[]): number {
  let n = 0;
  for (const b of carry) n += b.length;
  return n;
}
