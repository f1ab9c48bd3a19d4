/**
 * @module files — `read_file`, `write_file` and `edit_file`. Writes show their diff in the permission request
 * and in the tool call; an edit replaces one exact, unique match (or every match, when asked), and says
 * clearly why it cannot when the text is missing or ambiguous.
 */
import type { ToolCallContent } from "@agentclientprotocol/sdk";
import { z } from "zod";
import { type ToolContext, ToolError, type ToolOutcome, defineTool } from "./tool.ts";
import type { Workspace } from "./workspace.ts";

const defaultLines = 2000;
const maxLineChars = 2000;
const maxReadChars = 100_000;

const path = z.string().min(1).describe("File path, relative to the workspace (or absolute inside it)");
const at = (input: { path: string }, ws: Workspace) => [{ path: ws.resolve(input.path) }];

export const readFileTool = defineTool({
  name: "read_file",
  description:
    "Read a text file of the workspace. Lines come numbered (`  12\\tcode`); the numbers are not part of the file. " +
    `Reads ${defaultLines} lines from \`offset\` (1-based) unless \`limit\` says otherwise; long lines are cut.`,
  input: z.object({
    path,
    offset: z.number().int().min(1).optional().describe("First line to read (1-based)"),
    limit: z.number().int().min(1).max(10_000).optional().describe(`How many lines (default ${defaultLines})`),
  }),
  kind: "read",
  title: (i) => `Read ${i.path}${i.offset ? ` from line ${i.offset}` : ""}`,
  locations: (i, ws) => [{ path: ws.resolve(i.path), line: i.offset ?? 1 }],
  async run(input, { ws }) {
    const first = input.offset ?? 1;
    const want = input.limit ?? defaultLines;
    // One line more than asked tells whether the file goes on.
    const text = await ws.read(input.path, { line: first, limit: want + 1 });
    const lines = text === "" ? [] : text.split("\n");
    const more = lines.length > want;
    // "a\nb\n" splits into a last, empty piece that is no line of the file.
    if (!more && lines.at(-1) === "") lines.pop();
    const shown = lines.slice(0, want);
    let out = "";
    let n = first;
    for (const line of shown) {
      const piece = `${String(n).padStart(6)}\t${line.length > maxLineChars ? `${line.slice(0, maxLineChars)}… [line cut]` : line}\n`;
      if (out.length + piece.length > maxReadChars) return { output: `${out}[… stopped at ${maxReadChars} characters: read on with offset ${n}]` };
      out += piece;
      n++;
    }
    if (!shown.length) return { output: first === 1 ? "(the file is empty)" : `(the file has fewer than ${first} lines)` };
    return { output: more ? `${out}[… the file goes on: read on with offset ${n}]` : out };
  },
});

export const writeFileTool = defineTool({
  name: "write_file",
  description: "Create a file, or replace a file's whole content. Folders are made as needed. Prefer edit_file to change part of an existing file.",
  input: z.object({ path, content: z.string().describe("The file's complete new content") }),
  kind: "edit",
  needs: "edit",
  title: (i) => `Write ${i.path}`,
  locations: at,
  run: (input, ctx) =>
    changeFile(ctx, input.path, (before, name) => {
      const lines = input.content === "" ? 0 : input.content.split("\n").length - (input.content.endsWith("\n") ? 1 : 0);
      return { text: input.content, summary: `${before === null ? "Created" : "Wrote"} ${name} (${lines} line${lines === 1 ? "" : "s"}).` };
    }),
});

export const editFileTool = defineTool({
  name: "edit_file",
  description:
    "Replace exact text in a file: `old_string` must match the file exactly (indentation and line breaks included) and " +
    "only once, unless `replace_all` is true. Read the file first; include enough surrounding lines to make the match unique.",
  input: z.object({
    path,
    old_string: z.string().describe("The exact text to replace"),
    new_string: z.string().describe("The text to put in its place"),
    replace_all: z.boolean().optional().describe("Replace every occurrence instead of exactly one"),
  }),
  kind: "edit",
  needs: "edit",
  title: (i) => `Edit ${i.path}`,
  locations: at,
  run: (input, ctx) =>
    changeFile(ctx, input.path, (before, name) => {
      if (before === null) throw new ToolError(`${name} does not exist; use write_file to create it`);
      const after = applyEdit(before, input.old_string, input.new_string, input.replace_all ?? false, name);
      return { text: after.text, summary: `Edited ${name}: ${after.count} replacement${after.count === 1 ? "" : "s"} (at line ${after.lines.join(", ")}).` };
    }),
});

/**
 * The one way a tool changes a file: with the file locked, read what it is, work out what it becomes, ask
 * with the diff, note the old text for the review, write it, and show the diff.
 */
async function changeFile(ctx: ToolContext, path: string, next: (before: string | null, name: string) => { text: string; summary: string }): Promise<ToolOutcome> {
  const { ws } = ctx;
  const absolute = await ws.resolveReal(path);
  return ws.withLock(absolute, async () => {
    const before = await ws.readIfExists(absolute);
    const after = next(before, ws.relative(absolute));
    const diff: ToolCallContent[] = [{ type: "diff", path: absolute, oldText: before, newText: after.text }];
    await ctx.permit(diff);
    ctx.touched(absolute, before);
    await ws.write(absolute, after.text);
    return { output: after.summary, content: diff };
  });
}

/**
 * `text` with `oldString` replaced by `newString`: exactly one match, or every match with `all`. Throws a
 * ToolError the model can act on when there is no match, or more than one without `all`.
 */
export function applyEdit(text: string, oldString: string, newString: string, all: boolean, name: string): { text: string; count: number; lines: number[] } {
  if (oldString === "") throw new ToolError("old_string is empty; use write_file to create or overwrite a whole file");
  if (oldString === newString) throw new ToolError("old_string and new_string are the same: there is nothing to change");
  const starts: number[] = [];
  for (let i = text.indexOf(oldString); i >= 0; i = text.indexOf(oldString, i + oldString.length)) starts.push(i);
  const lineOf = (offset: number) => text.slice(0, offset).split("\n").length;
  if (starts.length === 0) {
    const near = looseMatchLine(text, oldString);
    throw new ToolError(
      `old_string was not found in ${name}.` +
        (near ? ` Text like it (differing in whitespace) is at line ${near}: copy it exactly from read_file's output, without the line numbers.` : " Read the file and copy the exact text, indentation and line breaks included."),
    );
  }
  if (starts.length > 1 && !all) {
    throw new ToolError(
      `old_string occurs ${starts.length} times in ${name} (at lines ${starts.map(lineOf).join(", ")}); include more surrounding lines to make it unique, or set replace_all to true to replace every one`,
    );
  }
  const lines = starts.map(lineOf);
  return { text: all ? text.split(oldString).join(newString) : text.slice(0, starts[0]) + newString + text.slice(starts[0] + oldString.length), count: starts.length, lines };
}

/** The line where `needle` matches once runs of whitespace are ignored, if it does. */
function looseMatchLine(text: string, needle: string): number | null {
  const words = needle.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return null;
  const pattern = new RegExp(words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+"));
  const m = pattern.exec(text);
  return m ? text.slice(0, m.index).split("\n").length : null;
}
