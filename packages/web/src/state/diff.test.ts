import { describe, expect, it } from "vitest";
import { diffTexts, parseUnifiedDiff } from "./diff.ts";

describe("parseUnifiedDiff", () => {
  it("reads git's output: several files, new and deleted ones, line numbers, binary files", () => {
    const text = [
      "diff --git a/src/a.ts b/src/a.ts",
      "index 1111111..2222222 100644",
      "--- a/src/a.ts",
      "+++ b/src/a.ts",
      "@@ -3,4 +3,4 @@ export function f() {",
      " one",
      "--- a removed line that looks like a header",
      "+++ an added line that looks like a header",
      " two",
      "",
      "\\ No newline at end of file",
      "diff --git a/new.txt b/new.txt",
      "new file mode 100644",
      "index 0000000..3333333",
      "--- /dev/null",
      "+++ b/new.txt",
      "@@ -0,0 +1,2 @@",
      "+hello",
      "+world",
      "diff --git a/old.txt b/old.txt",
      "deleted file mode 100644",
      "--- a/old.txt",
      "+++ /dev/null",
      "@@ -1 +0,0 @@",
      "-bye",
      "diff --git a/logo.png b/logo.png",
      "Binary files a/logo.png and b/logo.png differ",
      "",
    ].join("\n");
    const files = parseUnifiedDiff(text);
    expect(files.map((f) => [f.path, f.status, f.added, f.removed, f.binary])).toEqual([
      ["src/a.ts", "modified", 1, 1, false],
      ["new.txt", "added", 2, 0, false],
      ["old.txt", "deleted", 0, 1, false],
      ["logo.png", "modified", 0, 0, true],
    ]);
    expect(files[0].hunks[0].lines).toEqual([
      { type: "ctx", text: "one", oldNo: 3, newNo: 3 },
      { type: "del", text: "-- a removed line that looks like a header", oldNo: 4 },
      { type: "add", text: "++ an added line that looks like a header", newNo: 4 },
      { type: "ctx", text: "two", oldNo: 5, newNo: 5 },
      { type: "ctx", text: "", oldNo: 6, newNo: 6 },
      { type: "note", text: "No newline at end of file" },
    ]);
    expect(files[1].hunks[0].lines.map((l) => l.newNo)).toEqual([1, 2]);
    expect(files[2].hunks[0].lines[0]).toEqual({ type: "del", text: "bye", oldNo: 1 });
  });

  it("reads jsdiff's patches with Index and ==== headers", () => {
    const text = "===================================================================\n--- /dev/null\n+++ b/notes/a.md\n@@ -0,0 +1,1 @@\n+hello there\n";
    expect(parseUnifiedDiff(text)).toMatchObject([{ path: "notes/a.md", status: "added", added: 1, hunks: [{ lines: [{ type: "add", text: "hello there", newNo: 1 }] }] }]);
    expect(parseUnifiedDiff("")).toEqual([]);
  });
});

describe("diffTexts", () => {
  it("numbers the lines of an edit and of a new file", () => {
    const edit = diffTexts("g.ts", "a\nb\nc\n", "a\nB\nc\n");
    expect(edit).toMatchObject({ status: "modified", added: 1, removed: 1 });
    expect(edit.hunks[0].lines).toEqual([
      { type: "ctx", text: "a", oldNo: 1, newNo: 1 },
      { type: "del", text: "b", oldNo: 2 },
      { type: "add", text: "B", newNo: 2 },
      { type: "ctx", text: "c", oldNo: 3, newNo: 3 },
    ]);
    const created = diffTexts("n.txt", null, "x\ny\n");
    expect(created).toMatchObject({ status: "added", added: 2, removed: 0 });
    expect(created.hunks[0].lines.map((l) => l.newNo)).toEqual([1, 2]);
  });
});
