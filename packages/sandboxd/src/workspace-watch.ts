/**
 * @module workspace-watch — finds the files an agent changed with its own tools, by comparing snapshots of
 * the workspace (snapshot.ts) taken when the relay sees a tool call end, a terminal exit, a turn end or the
 * agent exit, and journals each change as a `file` record, like a write through `fs/write_text_file`.
 *
 * A write through `fs/write_text_file` already has its record: `noteWrite` takes it into the snapshot, so the
 * next compare does not report it a second time.
 *
 * Cost stays bounded: a compare is one `lstat` per followed file; a burst of tool calls costs at most about a
 * fifth of the relay's time (`soon` defers a compare that would come sooner than four times the last one's
 * duration); one compare journals at most `maxChangesPerCheck` records and `maxCheckDiffBytes` of diffs (the
 * changes left over stay out of the snapshot, so the next compare reports them).
 */
import { lstatSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { type FileChange, fileDiff } from "./file-diff.ts";
import { type Change, type Entry, type Snapshot, type SnapshotLimits, compareSnapshots, describePath, isFollowed, takeSnapshot } from "./snapshot.ts";

export const maxChangesPerCheck = 1000;
/** Diff bytes per compare; past it, records carry a one-line summary. */
const checkDiffBudgetFactor = 8;
/** A compare waits at least this many times the last one's duration after it (when asked to by `soon`). */
const spacingFactor = 4;

export interface WatchOptions {
  limits: SnapshotLimits;
  maxDiffBytes: number;
  emit(change: FileChange): void;
  log(msg: string): void;
}

export class WorkspaceWatch {
  private snapshot: Snapshot | null = null;
  private lastEnd = 0;
  private lastDuration = 0;
  private timer: NodeJS.Timeout | null = null;
  private warnedTruncated = false;

  /** `root` is the workspace's real (symlink-free) path: the one `fs/write_text_file` reports writes under. */
  constructor(
    private readonly root: string,
    private readonly options: WatchOptions,
  ) {}

  /** The picture everything later is compared to (the workspace as the agent finds it). */
  start(): void {
    const began = performance.now();
    try {
      this.snapshot = this.take();
    } catch (err) {
      this.options.log(`workspace snapshot failed, file changes will come from fs writes only: ${(err as Error).stack ?? err}`);
      return;
    }
    this.lastDuration = performance.now() - began;
    this.lastEnd = performance.now();
    this.options.log(`workspace snapshot: ${this.snapshot.entries.size} files, ${this.snapshot.keptBytes} bytes of text kept, ${this.lastDuration.toFixed(1)} ms${this.snapshot.truncated ? " (file or depth cap reached)" : ""}`);
  }

  /** Compares now and journals what changed (a turn's end: its records must come before the turn's answer). */
  check(): void {
    if (!this.snapshot) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const began = performance.now();
    try {
      this.compare();
    } catch (err) {
      // A workspace that vanished or a file that cannot be read must not take the relay down.
      this.options.log(`workspace compare failed: ${(err as Error).stack ?? err}`);
    }
    this.lastEnd = performance.now();
    this.lastDuration = this.lastEnd - began;
  }

  /** Compares now, or a little later when compares are slow and come in a burst. */
  soon(): void {
    if (!this.snapshot || this.timer) return;
    const due = this.lastEnd + this.lastDuration * spacingFactor;
    const wait = due - performance.now();
    if (wait <= 0) return this.check();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.check();
    }, wait);
    this.timer.unref();
  }

  /** A write through `fs/write_text_file` (already journaled): its new state joins the snapshot. */
  noteWrite(realPath: string): void {
    if (!this.snapshot) return;
    const rel = relative(this.root, realPath);
    if (rel === "" || rel.startsWith("..")) return;
    const path = sep === "/" ? rel : rel.split(sep).join("/");
    // A write into node_modules (or another skipped folder) is not followed: taking it in would read as a deletion later.
    if (!isFollowed(path)) return;
    const entry = describePath(this.root, path, this.options.limits, this.snapshot);
    if (entry) this.snapshot.entries.set(path, entry);
    else this.snapshot.entries.delete(path);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.snapshot = null;
  }

  private take(): Snapshot {
    return takeSnapshot(this.root, this.options.limits, this.snapshot ?? undefined);
  }

  private compare(): void {
    const before = this.snapshot!;
    const after = this.take();
    if (after.truncated && !this.warnedTruncated) {
      this.warnedTruncated = true;
      this.options.log(`the workspace has more than ${this.options.limits.maxFiles} files, or folders 64 deep: changes past those are not seen`);
    }
    const changes = compareSnapshots(before, after, (path) => lstatSync(join(this.root, path), { throwIfNoEntry: false }) !== undefined);
    let budget = this.options.maxDiffBytes * checkDiffBudgetFactor;
    changes.forEach((change, i) => {
      if (i >= maxChangesPerCheck) return keepForLater(after, before, change);
      const record = this.record(change, budget > 0);
      budget -= Buffer.byteLength(record.diff);
      this.options.emit(record);
    });
    this.snapshot = after;
  }

  private record(c: Change, withDiff: boolean): FileChange {
    const max = this.options.maxDiffBytes;
    if (!withDiff) return { path: c.path, change: c.change, ...fileDiff(c.path, c.change, null, null, max, "more changes than one diff budget: see the workspace diff") };
    return { path: c.path, change: c.change, ...fileDiff(c.path, c.change, textOf(c.before), textOf(c.after), max, summary(c)) };
  }
}

/** A change past the per-compare cap: the new snapshot keeps the old state of its path, so it shows up next time. */
function keepForLater(after: Snapshot, before: Snapshot, change: Change): void {
  const old = before.entries.get(change.path);
  if (old) after.entries.set(change.path, old);
  else after.entries.delete(change.path);
}

function textOf(entry: Entry | undefined): string | null {
  if (!entry) return "";
  if (entry.link !== undefined) return `symbolic link to ${entry.link}\n`;
  return entry.text ?? null;
}

/** The one-line summary for a change whose text is not at hand on one side. */
function summary(c: Change): string {
  const now = c.after ?? c.before!;
  if (now.binary || c.before?.binary) return `binary file, ${now.size} bytes`;
  if (c.change === "modified" && c.before!.text === undefined && c.before!.link === undefined) return `now ${now.size} bytes; the earlier content was too large to keep for a diff`;
  return `${now.size} bytes, too large for a diff`;
}
