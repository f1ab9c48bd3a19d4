import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Journal } from "./journal.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seqs = (lines: string[]) => lines.map((l) => JSON.parse(l).seq);
const range = (from: number, count: number) => Array.from({ length: count }, (_, k) => from + k);

describe("Journal", () => {
  it("numbers records from 1 without gaps and hands out only what is on disk", () => {
    const j = new Journal(join(dir, "a.ndjson"));
    j.append("agent", ',"msg":{"jsonrpc":"2.0","method":"x"}');
    j.append("stderr", ',"data":"hi"');
    expect(j.read(0, 10)).toEqual([]); // not written yet
    j.flush();
    const lines = j.read(0, 10);
    expect(seqs(lines)).toEqual([1, 2]);
    expect(JSON.parse(lines[0])).toMatchObject({ seq: 1, kind: "agent", msg: { method: "x" } });
    expect(readFileSync(join(dir, "a.ndjson"), "utf8")).toBe(lines.join(""));
    j.close();
  });

  it("reads old records from the file once the in-memory tail has moved past them", () => {
    const j = new Journal(join(dir, "b.ndjson"), { maxTailBytes: 10_000 });
    for (let i = 0; i < 5000; i++) {
      j.append("agent", `,"msg":{"jsonrpc":"2.0","method":"m","params":{"i":${i}}}`);
      if (i % 500 === 0) j.flush();
    }
    j.flush();
    for (const after of [0, 1, 1023, 1024, 1025, 2047, 3000, 4990]) {
      const lines = j.read(after, 7);
      expect(seqs(lines)).toEqual(range(after + 1, Math.min(7, 5000 - after)));
      expect(JSON.parse(lines[0]).msg.params.i).toBe(after);
    }
    // Sequential pages continue where the previous one stopped.
    const all: number[] = [];
    for (let after = 0; after < 5000; ) {
      const page = seqs(j.read(after, 333));
      all.push(...page);
      after += page.length;
    }
    expect(all).toEqual(range(1, 5000));
    j.close();
  });

  it("bounds a read by bytes but always returns at least one line", () => {
    const j = new Journal(join(dir, "bytes.ndjson"), { maxTailBytes: 1000 });
    const big = "x".repeat(5000);
    for (let i = 0; i < 10; i++) j.append("stderr", `,"data":"${big}"`);
    j.flush();
    expect(seqs(j.read(0, 10, 100))).toEqual([1]); // from the file
    expect(seqs(j.read(0, 10, 12_000))).toEqual([1, 2, 3]);
    expect(seqs(j.read(9, 10, 1))).toEqual([10]); // from memory
    j.close();
  });

  it("decodes multi-byte characters split across file read chunks", () => {
    const j = new Journal(join(dir, "utf8.ndjson"), { maxTailBytes: 1000 });
    const text = "é€😀".repeat(40_000); // lines of ~360 KB: chunk boundaries fall inside characters
    for (let i = 0; i < 4; i++) j.append("stderr", `,"data":${JSON.stringify(text + i)}`);
    j.flush();
    const lines = j.read(0, 4, 64 * 1024 * 1024);
    expect(lines.map((l) => JSON.parse(l).data)).toEqual(range(0, 4).map((i) => text + i));
    j.close();
  });

  it("continues the sequence after a restart, cuts a torn last line and finds old records without an index", () => {
    const path = join(dir, "c.ndjson");
    const a = new Journal(path);
    for (let i = 0; i < 30_000; i++) a.append("stderr", `,"data":"${i}${i % 7 === 0 ? "y".repeat(i % 300) : ""}"`);
    a.close();
    appendFileSync(path, '{"seq":30001,"at":1,"ki');
    const b = new Journal(path);
    expect(b.seq).toBe(30_000);
    b.append("stderr", ',"data":"after"');
    b.flush();
    expect(seqs(b.read(29_998, 10))).toEqual([29_999, 30_000, 30_001]);
    expect(JSON.parse(b.read(30_000, 1)[0]).data).toBe("after");
    for (const after of [0, 1, 2047, 5000, 17_777, 29_000]) {
      const lines = b.read(after, 5);
      expect(seqs(lines)).toEqual(range(after + 1, 5));
      expect(JSON.parse(lines[0]).data.startsWith(String(after))).toBe(true);
    }
    b.close();
    expect(readFileSync(path, "utf8").endsWith('"data":"after"}\n')).toBe(true);
  });

  it("continues from a file holding only a torn line", () => {
    const path = join(dir, "torn.ndjson");
    appendFileSync(path, '{"seq":1,"at":1,"kind":"std');
    const j = new Journal(path);
    expect(j.seq).toBe(0);
    j.append("stderr", ',"data":"x"');
    j.flush();
    expect(seqs(j.read(0, 10))).toEqual([1]);
    j.close();
  });
});
