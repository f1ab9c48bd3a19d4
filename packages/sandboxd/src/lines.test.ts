import { describe, expect, it } from "vitest";
import { LineSplitter } from "./lines.ts";

function split(chunks: Buffer[], max: number) {
  const out: string[] = [];
  const s = new LineSplitter(max, { line: (t) => out.push(t), oversize: (bytes, head) => out.push(`OVERSIZE ${bytes} ${head}`) });
  for (const c of chunks) s.push(c);
  s.end();
  return out;
}

describe("LineSplitter", () => {
  it("joins lines across chunks, even inside a UTF-8 character, and keeps a last line without newline", () => {
    const bytes = Buffer.from("ab€c\n\nde\nlast");
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 4), bytes.subarray(4, 9), bytes.subarray(9)];
    expect(split(chunks, 100)).toEqual(["ab€c", "", "de", "last"]);
  });

  it("drops a line over the bound as one oversize report and resumes at the next line", () => {
    const long = "x".repeat(50);
    expect(split([Buffer.from(`ok\n${long.slice(0, 20)}`), Buffer.from(long.slice(20)), Buffer.from("\nnext\n")], 30)).toEqual(["ok", `OVERSIZE 50 ${long}`, "next"]);
    expect(split([Buffer.from(`${long}\nnext\n`)], 30)).toEqual([`OVERSIZE 50 ${long}`, "next"]);
    expect(split([Buffer.from(long)], 30)).toEqual([`OVERSIZE 50 ${long}`]);
  });
});
