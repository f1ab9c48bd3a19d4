/**
 * The workspace snapshot and its compare: created / modified / deleted, touched files that did not change,
 * skipped folders, the file cap, and bounds on what is read and kept.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compareSnapshots, defaultSnapshotLimits, type Snapshot, takeSnapshot } from "./snapshot.ts";
import { maxChangesPerCheck, WorkspaceWatch } from "./workspace-watch.ts";
import type { FileChange } from "./file-diff.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "snapshot-test-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const put = (path: string, content: string | Buffer) => {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), content);
};
const exists = () => true;
const changesOf = (a: Snapshot, b: Snapshot) => compareSnapshots(a, b, exists).map((c) => `${c.change} ${c.path}`).sort();

describe("takeSnapshot and compareSnapshots", () => {
  it("finds created, modified and deleted files, and ignores a touch that changed nothing", () => {
    put("a.txt", "one\n");
    put("src/b.txt", "two\n");
    put("src/c.txt", "three\n");
    const first = takeSnapshot(root, defaultSnapshotLimits);
    expect([...first.entries.keys()].sort()).toEqual(["a.txt", "src/b.txt", "src/c.txt"]);
    put("a.txt", "ONE\n");
    put("src/new/d.txt", "four\n");
    unlinkSync(join(root, "src/b.txt"));
    const later = new Date(Date.now() + 5000);
    utimesSync(join(root, "src/c.txt"), later, later);
    const second = takeSnapshot(root, defaultSnapshotLimits, first);
    expect(changesOf(first, second)).toEqual(["created src/new/d.txt", "deleted src/b.txt", "modified a.txt"]);
    expect(changesOf(second, takeSnapshot(root, defaultSnapshotLimits, second))).toEqual([]);
  });

  it("reuses an unchanged file's entry without reading it again", () => {
    put("a.txt", "same\n");
    const first = takeSnapshot(root, defaultSnapshotLimits);
    const second = takeSnapshot(root, defaultSnapshotLimits, first);
    expect(second.entries.get("a.txt")).toBe(first.entries.get("a.txt"));
  });

  it("skips node_modules and .git at any depth, follows no symlink, and records the link itself", () => {
    put("node_modules/x/index.js", "x");
    put("pkg/node_modules/y/index.js", "y");
    put(".git/HEAD", "ref");
    put("real/file.txt", "r");
    symlinkSync(join(root, "real"), join(root, "linked"));
    symlinkSync("/etc", join(root, "outside"));
    const snap = takeSnapshot(root, defaultSnapshotLimits);
    expect([...snap.entries.keys()].sort()).toEqual(["linked", "outside", "real/file.txt"]);
    expect(snap.entries.get("outside")?.link).toBe("/etc");
  });

  it("never reads a file past maxReadBytes, keeps text within its budget and hashes binaries", () => {
    put("big.bin", "");
    truncateSync(join(root, "big.bin"), 50 * 1024 * 1024);
    put("small.bin", Buffer.from([1, 0, 2, 3]));
    put("t1.txt", "a".repeat(100));
    put("t2.txt", "b".repeat(100));
    const snap = takeSnapshot(root, { ...defaultSnapshotLimits, maxKeptBytes: 150 });
    expect(snap.entries.get("big.bin")).toMatchObject({ size: 50 * 1024 * 1024 });
    expect(snap.entries.get("big.bin")?.hash).toBeUndefined();
    expect(snap.entries.get("small.bin")).toMatchObject({ binary: true });
    expect(snap.keptBytes).toBe(100);
    expect([snap.entries.get("t1.txt")?.text, snap.entries.get("t2.txt")?.hash?.length]).toEqual(["a".repeat(100), 40]);
  });

  it("does not descend past a bounded depth", () => {
    put(`${Array.from({ length: 80 }, () => "d").join("/")}/deep.txt`, "deep");
    put("top.txt", "top");
    const snap = takeSnapshot(root, defaultSnapshotLimits);
    expect([...snap.entries.keys()]).toEqual(["top.txt"]);
    expect(snap.truncated).toBe(true);
  });

  it("stops at the file cap and then counts a missing path as deleted only when it is gone", () => {
    for (let i = 0; i < 10; i++) put(`f${i}.txt`, String(i));
    const limits = { ...defaultSnapshotLimits, maxFiles: 5 };
    const first = takeSnapshot(root, limits);
    expect(first.truncated).toBe(true);
    expect(first.entries.size).toBe(5);
    // A new file sorted first pushes f4 past the cap: it is not deleted.
    put("a.txt", "new");
    unlinkSync(join(root, "f0.txt"));
    const second = takeSnapshot(root, limits, first);
    const changes = compareSnapshots(first, second, (p) => p !== "f0.txt" && p !== "nothing");
    expect(changes.map((c) => `${c.change} ${c.path}`).sort()).toEqual(["created a.txt", "deleted f0.txt"]);
  });
});

describe("WorkspaceWatch", () => {
  const watch = (records: FileChange[], maxDiffBytes = 4096) =>
    new WorkspaceWatch(root, { limits: defaultSnapshotLimits, maxDiffBytes, emit: (c) => records.push(c), log: () => {} });

  it("gives unified diffs for created, modified and deleted text files and a summary for a binary one", () => {
    put("keep.txt", "one\ntwo\n");
    put("gone.txt", "bye\n");
    const records: FileChange[] = [];
    const w = watch(records);
    w.start();
    put("keep.txt", "one\nTWO\n");
    put("new.txt", "hi\n");
    put("blob.bin", Buffer.from([0, 1, 2]));
    unlinkSync(join(root, "gone.txt"));
    w.check();
    const by = Object.fromEntries(records.map((r) => [r.path, r]));
    expect(by["keep.txt"]).toMatchObject({ change: "modified", truncated: false });
    expect(by["keep.txt"].diff).toContain("-two\n+TWO");
    expect(by["new.txt"].diff).toContain("--- /dev/null");
    expect(by["new.txt"].diff).toContain("+hi");
    expect(by["gone.txt"]).toMatchObject({ change: "deleted", truncated: false });
    expect(by["gone.txt"].diff).toContain("+++ /dev/null");
    expect(by["gone.txt"].diff).toContain("-bye");
    expect(by["blob.bin"]).toMatchObject({ change: "created", truncated: true });
    expect(by["blob.bin"].diff).toContain("@@ binary file, 3 bytes @@");
    records.length = 0;
    w.check();
    expect(records).toEqual([]);
  });

  it("does not report a write it was told about", () => {
    const records: FileChange[] = [];
    const w = watch(records);
    w.start();
    put("written.txt", "through fs/write_text_file\n");
    w.noteWrite(join(root, "written.txt"));
    // A write into a skipped folder stays out of the snapshot (else the next compare would call it deleted).
    put("node_modules/x/index.js", "x\n");
    w.noteWrite(join(root, "node_modules/x/index.js"));
    w.check();
    expect(records).toEqual([]);
  });

  it("bounds each diff and says so", () => {
    const records: FileChange[] = [];
    const w = watch(records, 200);
    w.start();
    put("long.txt", Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n"));
    w.check();
    expect(records[0].truncated).toBe(true);
    expect(Buffer.byteLength(records[0].diff)).toBeLessThanOrEqual(200);
  });

  it("journals at most maxChangesPerCheck changes per compare; the rest come with the next one, diffs past the budget as summaries", () => {
    const records: FileChange[] = [];
    const w = watch(records, 100);
    w.start();
    for (let i = 0; i < maxChangesPerCheck + 5; i++) put(`many/f${String(i).padStart(4, "0")}.txt`, `file ${i}\n`);
    w.check();
    expect(records).toHaveLength(maxChangesPerCheck);
    // 100 bytes × 8 of diffs: the first few are diffs, the rest summaries.
    expect(records.filter((r) => !r.truncated).length).toBeLessThan(10);
    expect(records.at(-1)!.diff).toContain("@@ more changes than one diff budget");
    records.length = 0;
    w.check();
    expect(records.map((r) => r.path)).toEqual(Array.from({ length: 5 }, (_, i) => `many/f${maxChangesPerCheck + i}.txt`));
    records.length = 0;
    w.check();
    expect(records).toEqual([]);
  });
});
