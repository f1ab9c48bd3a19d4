/**
 * @module diff — unified diffs as files, hunks and numbered lines, ready to render.
 *
 * Reads both `git diff` output (`diff --git`, mode lines, `Binary files ... differ`) and jsdiff's patches
 * (`Index:` / `====` headers), and makes the same shape from an ACP tool call's `diff` content (old and new
 * text). A `--- ` line inside a hunk is a removed line that starts with "--", not a new file: the hunk's line
 * counts tell which.
 */
import { structuredPatch } from "diff";

export interface DiffLine {
  type: "add" | "del" | "ctx" | "note";
  text: string;
  oldNo?: number;
  newNo?: number;
}

export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}

export interface DiffFile {
  /** The path to show: the new one, or the old one for a deletion. */
  path: string;
  oldPath: string | null;
  newPath: string | null;
  status: "added" | "deleted" | "modified" | "renamed";
  binary: boolean;
  hunks: DiffHunk[];
  added: number;
  removed: number;
}

const stripPrefix = (p: string): string | null => {
  const path = p.replace(/\t.*$/, "").trim();
  if (path === "/dev/null") return null;
  return path.replace(/^[ab]\//, "");
};

export function parseUnifiedDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | null = null;
  let hunk: DiffHunk | null = null;
  let oldLeft = 0;
  let newLeft = 0;
  let oldNo = 0;
  let newNo = 0;
  const open = (): DiffFile => {
    file = { path: "", oldPath: null, newPath: null, status: "modified", binary: false, hunks: [], added: 0, removed: 0 };
    files.push(file);
    hunk = null;
    return file;
  };
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const line of lines) {
    const inHunk = hunk !== null && (oldLeft > 0 || newLeft > 0);
    if (inHunk) {
      const h = hunk as DiffHunk;
      const f = file as unknown as DiffFile;
      const mark = line[0];
      if (mark === "+") {
        h.lines.push({ type: "add", text: line.slice(1), newNo: newNo++ });
        newLeft--;
        f.added++;
        continue;
      }
      if (mark === "-") {
        h.lines.push({ type: "del", text: line.slice(1), oldNo: oldNo++ });
        oldLeft--;
        f.removed++;
        continue;
      }
      if (mark === " " || line === "") {
        h.lines.push({ type: "ctx", text: line.slice(1), oldNo: oldNo++, newNo: newNo++ });
        oldLeft--;
        newLeft--;
        continue;
      }
      if (mark === "\\") {
        h.lines.push({ type: "note", text: line.slice(1).trim() });
        continue;
      }
      // anything else ends the hunk early (a malformed count): read it as a header below
    }
    if (line.startsWith("\\") && hunk) {
      (hunk as DiffHunk).lines.push({ type: "note", text: line.slice(1).trim() });
      continue;
    }
    if (line.startsWith("diff --git ")) {
      const f = open();
      const m = line.match(/^diff --git a\/(.+?) b\/(.+)$/);
      if (m) {
        f.oldPath = m[1];
        f.newPath = m[2];
      }
      continue;
    }
    if (line.startsWith("Index: ") || line.startsWith("=====")) {
      // jsdiff's header: a new file starts unless the current one has not begun yet
      const current = file as DiffFile | null;
      if (!current || current.hunks.length > 0 || current.binary) open();
      continue;
    }
    if (line.startsWith("--- ")) {
      let f = file as DiffFile | null;
      if (!f || f.hunks.length > 0 || f.binary) f = open();
      f.oldPath = stripPrefix(line.slice(4));
      continue;
    }
    if (line.startsWith("+++ ")) {
      const f = (file as DiffFile | null) ?? open();
      f.newPath = stripPrefix(line.slice(4));
      continue;
    }
    const hm = line.match(/^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/);
    if (hm) {
      const f = (file as DiffFile | null) ?? open();
      oldNo = Number(hm[1]);
      oldLeft = hm[2] === undefined ? 1 : Number(hm[2]);
      newNo = Number(hm[3]);
      newLeft = hm[4] === undefined ? 1 : Number(hm[4]);
      // An empty side starts "at" line 0; its next line is line 1.
      if (oldLeft === 0) oldNo++;
      if (newLeft === 0) newNo++;
      hunk = { header: line, lines: [] };
      f.hunks.push(hunk);
      continue;
    }
    if (/^Binary files .* differ$/.test(line) || line === "GIT binary patch") {
      ((file as DiffFile | null) ?? open()).binary = true;
      continue;
    }
    const f = file as DiffFile | null;
    if (f && line.startsWith("new file mode")) f.oldPath = null;
    else if (f && line.startsWith("deleted file mode")) f.newPath = null;
    else if (f && line.startsWith("rename from ")) f.oldPath = line.slice(12);
    else if (f && line.startsWith("rename to ")) f.newPath = line.slice(10);
    // other header lines (index, mode, similarity) say nothing worth showing
  }
  for (const f of files) finish(f);
  return files.filter((f) => f.hunks.length > 0 || f.binary || f.oldPath !== f.newPath);
}

function finish(f: DiffFile): void {
  f.path = f.newPath ?? f.oldPath ?? "";
  if (f.oldPath === null && f.newPath !== null) f.status = "added";
  else if (f.newPath === null && f.oldPath !== null) f.status = "deleted";
  else if (f.oldPath !== f.newPath) f.status = "renamed";
  else f.status = "modified";
}

/** An ACP `diff` content (old text, or null for a new file, and new text) as a file diff with 3 lines of context. */
export function diffTexts(path: string, oldText: string | null | undefined, newText: string): DiffFile {
  const patch = structuredPatch(path, path, oldText ?? "", newText, "", "", { context: 3 });
  const file: DiffFile = { path, oldPath: oldText == null ? null : path, newPath: path, status: oldText == null ? "added" : "modified", binary: false, hunks: [], added: 0, removed: 0 };
  for (const h of patch.hunks) {
    let oldNo = h.oldLines === 0 ? h.oldStart + 1 : h.oldStart;
    let newNo = h.newLines === 0 ? h.newStart + 1 : h.newStart;
    const hunk: DiffHunk = { header: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, lines: [] };
    for (const line of h.lines) {
      const mark = line[0];
      if (mark === "+") {
        hunk.lines.push({ type: "add", text: line.slice(1), newNo: newNo++ });
        file.added++;
      } else if (mark === "-") {
        hunk.lines.push({ type: "del", text: line.slice(1), oldNo: oldNo++ });
        file.removed++;
      } else if (mark === "\\") hunk.lines.push({ type: "note", text: line.slice(1).trim() });
      else hunk.lines.push({ type: "ctx", text: line.slice(1), oldNo: oldNo++, newNo: newNo++ });
    }
    file.hunks.push(hunk);
  }
  return file;
}
