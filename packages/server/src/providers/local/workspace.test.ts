import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { diffWorkspace, makeBaseline } from "./diff.ts";
import { maxEntries, maxFileBytes, readWorkspace, seedFiles, writeInside } from "./workspace.ts";

const root = mkdtempSync(join(tmpdir(), "airlock-ws-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
let ws: string;
let outside: string;
beforeEach(() => {
  const base = join(root, String(n++));
  ws = join(base, "workspace");
  outside = join(base, "outside");
  mkdirSync(ws, { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, "secret.txt"), "top secret\n");
});

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return "no error";
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe("seeding and home files", () => {
  it("writes files in nested folders", () => {
    seedFiles(ws, { "a.txt": "A", "src/deep/b.ts": "B" });
    expect(readFileSync(join(ws, "src/deep/b.ts"), "utf8")).toBe("B");
  });

  it("refuses paths that leave the workspace", () => {
    for (const path of ["../x", "/etc/x", "a/../../x", "", "a/\0b"]) expect(codeOf(() => seedFiles(ws, { [path]: "x" })), path).toBe("bad_request");
    expect(readdirSync(join(ws, ".."))).toEqual(["outside", "workspace"]);
  });

  it("refuses to write through a symbolic link, on the way or at the end", () => {
    symlinkSync(outside, join(ws, "link"));
    symlinkSync(join(outside, "secret.txt"), join(ws, "file-link"));
    expect(codeOf(() => seedFiles(ws, { "link/secret.txt": "pwned" }))).toBe("bad_request");
    expect(codeOf(() => seedFiles(ws, { "file-link": "pwned" }))).toBe("bad_request");
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("top secret\n");
  });

  it("replaces links the agent planted in its home instead of following them", () => {
    mkdirSync(join(ws, ".claude"));
    symlinkSync(join(outside, "secret.txt"), join(ws, ".claude/settings.json"));
    symlinkSync(outside, join(ws, ".config"));
    writeInside(ws, ".claude/settings.json", "{}", "replace");
    writeInside(ws, ".config/opencode/opencode.json", "{}", "replace");
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("top secret\n");
    expect(readdirSync(outside)).toEqual(["secret.txt"]);
    expect(readFileSync(join(ws, ".claude/settings.json"), "utf8")).toBe("{}");
    expect(readFileSync(join(ws, ".config/opencode/opencode.json"), "utf8")).toBe("{}");
  });
});

describe("readWorkspace", () => {
  it("lists a folder, folders first then names, with file sizes", () => {
    seedFiles(ws, { "b.txt": "bb", "a.txt": "a", "z/x": "", "c/y": "" });
    const entry = readWorkspace(ws, "");
    expect(entry).toEqual({
      type: "dir",
      path: "",
      entries: [
        { name: "c", type: "dir", size: 0 },
        { name: "z", type: "dir", size: 0 },
        { name: "a.txt", type: "file", size: 1 },
        { name: "b.txt", type: "file", size: 2 },
      ],
    });
  });

  it("bounds a listing", () => {
    mkdirSync(join(ws, "many"));
    for (let i = 0; i < maxEntries + 50; i++) writeFileSync(join(ws, "many", `f${String(i).padStart(5, "0")}`), "");
    const entry = readWorkspace(ws, "many");
    expect(entry.type === "dir" && entry.entries.length).toBe(maxEntries);
    expect(entry.type === "dir" && entry.entries[0].name).toBe("f00000");
  });

  it("reads text as utf8, binary as base64, and cuts large files", () => {
    seedFiles(ws, { "t.txt": "héllo\n" });
    writeFileSync(join(ws, "b.bin"), Buffer.from([0, 1, 2, 255]));
    writeFileSync(join(ws, "big.txt"), "x".repeat(maxFileBytes + 10));
    expect(readWorkspace(ws, "t.txt")).toMatchObject({ type: "file", path: "t.txt", content: "héllo\n", encoding: "utf8", truncated: false });
    expect(readWorkspace(ws, "b.bin")).toMatchObject({ content: Buffer.from([0, 1, 2, 255]).toString("base64"), encoding: "base64" });
    const big = readWorkspace(ws, "big.txt");
    expect(big.type === "file" && [big.content.length, big.size, big.truncated]).toEqual([maxFileBytes, maxFileBytes + 10, true]);
  });

  it("refuses .., absolute paths and symbolic links that lead out; follows links that stay inside", () => {
    seedFiles(ws, { "real/f.txt": "inside" });
    symlinkSync(outside, join(ws, "out"));
    symlinkSync(join(outside, "secret.txt"), join(ws, "secret"));
    symlinkSync("real", join(ws, "alias"));
    for (const path of ["../outside/secret.txt", "/etc/passwd", "out/secret.txt", "secret", "out"]) expect(codeOf(() => readWorkspace(ws, path)), path).toBe("bad_request");
    expect(readWorkspace(ws, "alias/f.txt")).toMatchObject({ path: "real/f.txt", content: "inside" });
    expect(codeOf(() => readWorkspace(ws, "missing.txt"))).toBe("not_found");
  });

  it("does not hang on a FIFO the agent made", () => {
    execFileSync("mkfifo", [join(ws, "pipe")]);
    const started = Date.now();
    expect(codeOf(() => readWorkspace(ws, "pipe"))).toBe("bad_request");
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("baseline and diff", () => {
  it("shows created, modified and deleted files, and does not grow the baseline", async () => {
    seedFiles(ws, { "keep.txt": "one\ntwo\n", "gone.txt": "bye\n", "same.txt": "same\n" });
    const gitDir = join(ws, "..", "baseline.git");
    await makeBaseline(gitDir, ws);
    expect(await diffWorkspace(gitDir, ws)).toEqual({ diff: "", truncated: false, notes: [] });
    const objects = () => execFileSync("git", [`--git-dir=${gitDir}`, "count-objects"], { encoding: "utf8" });
    const before = objects();

    writeFileSync(join(ws, "keep.txt"), "one\nTWO\n");
    rmSync(join(ws, "gone.txt"));
    seedFiles(ws, { "new/file.txt": "fresh\n" });
    const { diff } = await diffWorkspace(gitDir, ws);
    expect(diff).toContain("diff --git a/keep.txt b/keep.txt");
    expect(diff).toContain("-two\n+TWO");
    expect(diff).toMatch(/diff --git a\/gone.txt b\/gone.txt\ndeleted file mode/);
    expect(diff).toMatch(/diff --git a\/new\/file.txt b\/new\/file.txt\nnew file mode/);
    expect(diff).toContain("+fresh");
    expect(diff).not.toContain("same.txt");
    expect(objects()).toBe(before);
  });

  it("commits an empty workspace, and bounds the diff", async () => {
    const gitDir = join(ws, "..", "baseline.git");
    await makeBaseline(gitDir, ws);
    seedFiles(ws, { "big.txt": "line\n".repeat(10_000) });
    const { diff, truncated, notes } = await diffWorkspace(gitDir, ws, { maxDiffBytes: 1000 });
    expect(diff.length).toBeLessThanOrEqual(1000);
    expect(truncated).toBe(true);
    expect(notes).toContain("incomplete: the diff was cut at 1000 bytes");
  });

  it("stops its walk at the file-count and read bounds: truncated, unreached files count as unchanged, none as deleted", async () => {
    const gitDir = join(ws, "..", "baseline.git");
    seedFiles(ws, { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n" });
    await makeBaseline(gitDir, ws);
    seedFiles(ws, { "a.txt": "A\n", "d.txt": "d\n" });
    const byCount = await diffWorkspace(gitDir, ws, { maxFiles: 1 });
    expect(byCount.truncated).toBe(true);
    expect(byCount.diff).toContain("+A");
    expect(byCount.diff).not.toMatch(/deleted file|d\.txt/);
    expect(byCount.notes).toContain("incomplete: the workspace has over 1 files; the files not reached count as unchanged");
    const byBytes = await diffWorkspace(gitDir, ws, { maxReadBytes: 3 });
    expect(byBytes).toMatchObject({ truncated: true, notes: ["incomplete: the diff's read bound (3 bytes) was reached; the files not reached count as unchanged"] });
    expect(byBytes.diff).toContain("+A");
    expect(byBytes.diff).not.toContain("deleted file");
    expect(await diffWorkspace(gitDir, ws)).toMatchObject({ truncated: false, notes: [] });
  });

  it("compares a file over the size bound by size against a baseline that holds its content (made before summaries)", async () => {
    const gitDir = join(ws, "..", "baseline.git");
    seedFiles(ws, { "kept.log": "0123456789abcdefghij\n", "grown.log": "0123456789abcdefghij\n" });
    await makeBaseline(gitDir, ws);
    seedFiles(ws, { "grown.log": "0123456789abcdefghij and more\n" });
    const { diff, notes } = await diffWorkspace(gitDir, ws, { maxFileBytes: 10 });
    expect(diff).not.toContain("kept.log");
    expect(diff).toContain("+[Airlock: a file of 30 bytes");
    expect(notes).toEqual(["grown.log: 30 bytes, over 10: compared by size and time, not content"]);
  });

  it("says clearly when there is no baseline", async () => {
    await expect(diffWorkspace(join(ws, "..", "none.git"), ws)).rejects.toMatchObject({ code: "unavailable", message: /no baseline/ });
  });
});
