import { mkdtempSync, rmSync, readFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Journal } from "./journal.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seqs = (lines: string[]) => lines.map((l) => JSON.parse(l).seq);

describe("Journal", () => {
  it("numbers records from 1 without gaps and hands out only what is on disk", () => {
    const j = new Journal(join(dir, "a.ndjson"));
    j.append("agent", ',"msg":{"jsonrpc":"2.0","method":"x"}');
    j.append("stderr", ',"data":"hi"');
    expect(j.read(0, 10)).toEqual([]); // not flushed yet
    j.flush();
    const lines = j.read(0, 10);
    expect(seqs(lines)).toEqual([1, 2]);
    expect(JSON.parse(lines[0])).toMatchObject({ seq: 1, kind: "agent", msg: { method: "x" } });
    expect(readFileSync(join(dir, "a.ndjson"), "utf8")).toBe(lines.join(""));
    j.close();
  });

  it("reads old records from the file once the in-memory tail has moved past them", () => {
    const j = new Journal(join(dir, "b.ndjson"), 10_000);
    for (let i = 0; i < 5000; i++) {
      j.append("agent", `,"msg":{"jsonrpc":"2.0","method":"m","params":{"i":${i}}}`);
      if (i % 500 === 0) j.flush();
    }
    j.flush();
    for (const after of [0, 1, 1023, 1024, 1025, 2047, 3000, 4990]) {
      const lines = j.read(after, 7);
      expect(seqs(lines)).toEqual(Array.from({ length: Math.min(7, 5000 - after) }, (_, k) => after + k + 1));
      expect(JSON.parse(lines[0]).msg.params.i).toBe(after);
    }
    j.close();
  });

  it("continues the sequence after a restart and cuts a torn last line", () => {
    const path = join(dir, "c.ndjson");
    const a = new Journal(path);
    for (let i = 0; i < 3000; i++) a.append("stderr", `,"data":"${i}"`);
    a.close();
    appendFileSync(path, '{"seq":3001,"at":1,"ki');
    const b = new Journal(path);
    expect(b.seq).toBe(3000);
    b.append("stderr", ',"data":"after"');
    b.flush();
    expect(seqs(b.read(2998, 10))).toEqual([2999, 3000, 3001]);
    expect(JSON.parse(b.read(3000, 1)[0]).data).toBe("after");
    expect(JSON.parse(b.read(2047, 1)[0]).seq).toBe(2048);
    b.close();
  });
});
