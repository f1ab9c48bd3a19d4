import { describe, expect, it } from "vitest";
import { afterFirstWord, pick } from "./keywords.ts";

describe("pick", () => {
  it("finds the first keyword as a whole word, in any case", () => {
    expect(pick("Please THINK about the plan").keyword).toBe("think");
    expect(pick("permission please").keyword).toBe("permission");
    expect(pick("(echo) this").keyword).toBe("echo");
    expect(pick("readme, echoes, tool_call, run-time, tools").keyword).toBe(null);
    expect(pick("hello there")).toEqual({ keyword: null, rest: "", args: [] });
  });

  it("keeps the text after the keyword as typed", () => {
    expect(pick("now run  a &&  b\n").rest).toBe("a &&  b");
    expect(pick("burst 200 rate 50")).toEqual({ keyword: "burst", rest: "200 rate 50", args: ["200", "rate", "50"] });
    expect(afterFirstWord(pick("write notes.md two\nlines").rest)).toBe("two\nlines");
    expect(afterFirstWord("only-a-path")).toBe("");
  });
});
