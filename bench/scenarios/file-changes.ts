/**
 * File changes: what the relay's workspace snapshot costs (packages/sandboxd/src/snapshot.ts), measured on a
 * workspace of 10,000 source files (100 folders × 100 files of ~2 KB) beside a node_modules of 10,000 more and a
 * 50 MB binary, which must cost nothing:
 *  - the first picture (every small file read, text kept up to the budget);
 *  - a compare when nothing changed (one lstat per file: what each tool call's end and each turn's end costs);
 *  - a compare after 10 files changed (those are read again and diffed);
 *  - the text kept in memory for diffs.
 */
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkspaceWatch } from "../../packages/sandboxd/src/workspace-watch.ts";
import { defaultSnapshotLimits, takeSnapshot } from "../../packages/sandboxd/src/snapshot.ts";
import type { BenchContext } from "../lib/context.ts";
import { percentile, round } from "../lib/stats.ts";

const line = (i: number) => `export const value${i} = "${"x".repeat(40)}"; // line ${i}\n`;

function makeWorkspace(root: string, folders: number, perFolder: number): void {
  const body = Array.from({ length: 30 }, (_, i) => line(i)).join("");
  for (let d = 0; d < folders; d++) {
    const dir = join(root, "src", `mod${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < perFolder; f++) writeFileSync(join(dir, `file${f}.ts`), body);
    const deps = join(root, "node_modules", `pkg${d}`);
    mkdirSync(deps, { recursive: true });
    for (let f = 0; f < perFolder; f++) writeFileSync(join(deps, `index${f}.js`), body);
  }
  writeFileSync(join(root, "data.bin"), "");
  truncateSync(join(root, "data.bin"), 50 * 1024 * 1024);
}

export async function fileChanges(ctx: BenchContext): Promise<void> {
  const folders = ctx.quick ? 10 : 100;
  const perFolder = ctx.quick ? 10 : 100;
  const rounds = ctx.quick ? 5 : 30;
  const root = mkdtempSync(join(tmpdir(), "bench-file-changes-"));
  try {
    makeWorkspace(root, folders, perFolder);
    const files = folders * perFolder;
    const records: unknown[] = [];
    const watch = new WorkspaceWatch(root, { limits: defaultSnapshotLimits, maxDiffBytes: 256 * 1024, emit: (c) => records.push(c), log: () => {} });
    let began = performance.now();
    watch.start();
    const firstMs = performance.now() - began;
    const picture = takeSnapshot(root, defaultSnapshotLimits);
    ctx.record({ scenario: "file-changes", metric: `first snapshot, ${files} files (+${files} in node_modules, a 50 MB binary)`, value: round(firstMs, 1), unit: "ms", note: `${picture.entries.size} files followed` });

    const idle: number[] = [];
    for (let i = 0; i < rounds; i++) {
      began = performance.now();
      watch.check();
      idle.push(performance.now() - began);
    }
    idle.sort((a, b) => a - b);
    ctx.record({ scenario: "file-changes", metric: `compare with nothing changed, ${files} files, p50`, value: round(percentile(idle, 50), 1), unit: "ms", target: "< 100", note: `p95 ${round(percentile(idle, 95), 1)} ms` });

    const changed: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (let f = 0; f < 10; f++) writeFileSync(join(root, "src", `mod${f % folders}`, `file${(i + f) % perFolder}.ts`), line(i) + line(f));
      began = performance.now();
      watch.check();
      changed.push(performance.now() - began);
    }
    changed.sort((a, b) => a - b);
    ctx.record({ scenario: "file-changes", metric: "compare after 10 files changed, p50", value: round(percentile(changed, 50), 1), unit: "ms", note: `${records.length} records in ${rounds} rounds` });
    ctx.record({ scenario: "file-changes", metric: "text kept for diffs", value: round(picture.keptBytes / 2 ** 20, 2), unit: "MB", target: "≤ 8", note: "the budget; the rest is compared by stat and hash" });
    if (records.length !== rounds * 10) throw new Error(`expected ${rounds * 10} change records, got ${records.length}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
