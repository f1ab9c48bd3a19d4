/**
 * @module diff — unified diffs for the terminal: made from an ACP diff (`oldText` → `newText`) or taken as the
 * server gives them, coloured line by line (additions green, deletions red, hunks cyan).
 */
import { createTwoFilesPatch } from "diff";
import type { Colors } from "./colors.ts";

/** A unified diff of one file from its old text (null: a new file) to its new text. */
export function diffOf(path: string, oldText: string | null | undefined, newText: string): string {
  const patch = createTwoFilesPatch(oldText == null ? "/dev/null" : `a/${path}`, `b/${path}`, oldText ?? "", newText, undefined, undefined, { context: 3 });
  // The library's first line is a "====" separator; the rest is a plain unified diff.
  return patch.replace(/^=+\n/, "");
}

/** Colours a unified diff (one or many files). */
export function colorDiff(diff: string, c: Colors): string {
  return diff
    .split("\n")
    .map((line) => {
      if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff --git")) return c.bold(line);
      if (line.startsWith("+")) return c.green(line);
      if (line.startsWith("-")) return c.red(line);
      if (line.startsWith("@@")) return c.cyan(line);
      if (/^(new|deleted) file mode|^index |^Binary files/.test(line)) return c.dim(line);
      return line;
    })
    .join("\n");
}

/** The files a unified diff (git's form) touches: path and whether it was deleted. */
export function changedFiles(diff: string): Array<{ path: string; deleted: boolean }> {
  const files: Array<{ path: string; deleted: boolean }> = [];
  let current: { path: string; deleted: boolean } | null = null;
  for (const line of diff.split("\n")) {
    const header = line.match(/^diff --git (?:"a\/.*"|a\/.*) ("b\/.*"|b\/.*)$/);
    if (header) {
      current = { path: unquote(header[1]).replace(/^b\//, ""), deleted: false };
      files.push(current);
    } else if (current && line.startsWith("deleted file mode")) current.deleted = true;
    else if (current && /^\+\+\+ "?b\//.test(line)) current.path = unquote(line.slice(4)).replace(/^b\//, "");
  }
  return files;
}

/** git quotes paths with unusual characters in C style ("a\tb"). */
function unquote(path: string): string {
  if (!(path.startsWith('"') && path.endsWith('"'))) return path;
  try {
    return JSON.parse(path) as string;
  } catch {
    return path.slice(1, -1);
  }
}
