import { describe, expect, it } from "vitest";
import { applyEdit } from "./files.ts";

describe("applyEdit", () => {
  const text = "a = 1\nb = 2\na = 1\n";
  it("replaces one unique match and says where", () => {
    expect(applyEdit(text, "b = 2", "b = 3", false, "f.py")).toEqual({ text: "a = 1\nb = 3\na = 1\n", count: 1, lines: [2] });
  });
  it("refuses an ambiguous match unless every one is wanted", () => {
    expect(() => applyEdit(text, "a = 1", "a = 0", false, "f.py")).toThrow("occurs 2 times in f.py (at lines 1, 3)");
    expect(applyEdit(text, "a = 1", "a = 0", true, "f.py")).toMatchObject({ text: "a = 0\nb = 2\na = 0\n", count: 2, lines: [1, 3] });
  });
  it("refuses a missing match, pointing at text that differs only in whitespace", () => {
    expect(() => applyEdit(text, "c = 3", "c = 4", false, "f.py")).toThrow("old_string was not found in f.py. Read the file");
    expect(() => applyEdit(text, "b  =\t2", "b = 4", false, "f.py")).toThrow("is at line 2");
  });
  it("refuses empty and no-op edits", () => {
    expect(() => applyEdit(text, "", "x", false, "f.py")).toThrow("use write_file");
    expect(() => applyEdit(text, "b = 2", "b = 2", false, "f.py")).toThrow("nothing to change");
  });
  it("counts matches that do not overlap, and leaves $ patterns in new_string alone", () => {
    expect(applyEdit("aaaa", "aa", "b", true, "f").text).toBe("bb");
    expect(applyEdit("x", "x", "$&$1", false, "f").text).toBe("$&$1");
  });
});
