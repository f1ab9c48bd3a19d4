import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { diskUsage, watchDisk } from "./disk.ts";

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "airlock-disk-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("diskUsage", () => {
  it("counts allocated blocks in nested folders, a sparse file for what it takes", async () => {
    const dir = scratch();
    mkdirSync(join(dir, "a/b"), { recursive: true });
    writeFileSync(join(dir, "a/b/one"), Buffer.alloc(3 * 1024 * 1024, 1));
    const fd = openSync(join(dir, "sparse"), "w");
    ftruncateSync(fd, 1024 * 1024 * 1024);
    closeSync(fd);
    const usage = await diskUsage([dir]);
    expect(usage.partial).toBe(false);
    expect(usage.bytes).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    expect(usage.bytes).toBeLessThan(4 * 1024 * 1024);
  });

  it("stops at maxEntries and says the figure is partial", async () => {
    const dir = scratch();
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `f${i}`), "x");
    expect(await diskUsage([dir], 5)).toMatchObject({ partial: true });
    expect(await diskUsage([join(dir, "missing")])).toEqual({ bytes: 0, partial: false });
  });
});

describe("watchDisk", () => {
  it("calls over once the folders pass the limit", async () => {
    const dir = scratch();
    const seen: number[] = [];
    const stop = watchDisk([dir], 1024 * 1024, 30, (u) => seen.push(u.bytes));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
    writeFileSync(join(dir, "big"), Buffer.alloc(2 * 1024 * 1024, 1));
    const until = Date.now() + 5000;
    while (seen.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(seen.length).toBe(1);
    expect(seen[0]).toBeGreaterThan(1024 * 1024);
  });
});
