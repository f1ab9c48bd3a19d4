/**
 * @module find — `list_files` and `search`. Search uses ripgrep when the sandbox has it, else a JavaScript
 * scan with the same rules (skipped folders, no binary or huge files) and the same output: `path:line:text`.
 */
import { spawn } from "node:child_process";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { ToolError, defineTool } from "./tool.ts";
import { renderTree, skippedDirs, walk, which } from "./walk.ts";

const maxListed = 500;
const defaultResults = 100;
const maxLineChars = 300;
const maxScannedFiles = 20_000;
const maxScannedBytes = 1024 * 1024;
const searchTimeoutMs = 20_000;

export const listFilesTool = defineTool({
  name: "list_files",
  description: `List a folder of the workspace as a tree (files with sizes), to \`depth\` levels. Dependency and build folders (${[...skippedDirs].slice(0, 4).join(", ")}, …) are shown but not opened. At most ${maxListed} entries.`,
  input: z.object({
    path: z.string().optional().describe("Folder, relative to the workspace (default: the workspace)"),
    depth: z.number().int().min(1).max(8).optional().describe("Levels to show (default 2)"),
  }),
  kind: "search",
  title: (i) => `List ${i.path ?? "the workspace"}`,
  locations: (i, ws) => [{ path: ws.resolve(i.path ?? ".") }],
  async run(input, { ws }) {
    const dir = await ws.resolveReal(input.path ?? ".");
    const { entries, truncated } = await walk(dir, { maxDepth: input.depth ?? 2, maxEntries: maxListed });
    if (!entries.length) return { output: `${ws.relative(dir)} is empty or not a folder.` };
    return { output: `${ws.relative(dir)}/\n${renderTree(entries)}${truncated ? `\n[… more than ${maxListed} entries: list a subfolder]` : ""}` };
  },
});

const searchInput = z.object({
  pattern: z.string().min(1).describe("Regular expression (ripgrep / JavaScript syntax)"),
  path: z.string().optional().describe("Folder or file to search, relative to the workspace (default: all of it)"),
  glob: z.string().optional().describe("Only files whose path matches, e.g. `*.ts` or `src/**/*.py`"),
  ignore_case: z.boolean().optional(),
  max_results: z.number().int().min(1).max(1000).optional().describe(`Default ${defaultResults}`),
});
export type SearchInput = z.infer<typeof searchInput>;

export const searchTool = defineTool({
  name: "search",
  description: "Search file contents of the workspace for a regular expression. Answers `path:line:text` lines, skipping dependency/build folders and binary files.",
  input: searchInput,
  kind: "search",
  title: (i) => `Search for \`${i.pattern}\`${i.path ? ` in ${i.path}` : ""}`,
  async run(input, { ws, signal }) {
    const target = await ws.resolveReal(input.path ?? ".");
    const max = input.max_results ?? defaultResults;
    const rg = which("rg");
    const { lines, more } = rg ? await ripgrep(rg, ws.root, ws.relative(target), input, max, signal) : await scan(ws.root, ws.relative(target), input, max, signal);
    if (!lines.length) return { output: `No matches for \`${input.pattern}\`.` };
    return { output: `${lines.join("\n")}${more ? `\n[… more than ${max} matches: narrow the pattern, path or glob]` : ""}` };
  },
});

type Found = { lines: string[]; more: boolean };

/** ripgrep from the workspace root, so paths come out relative to it. */
export function ripgrep(rg: string, root: string, target: string, input: SearchInput, max: number, signal: AbortSignal): Promise<Found> {
  const args = ["--line-number", "--no-heading", "--color", "never", "--with-filename", "--max-columns", String(maxLineChars), "--max-columns-preview", "--sort", "path"];
  if (input.ignore_case) args.push("--ignore-case");
  if (input.glob) args.push("--glob", input.glob);
  for (const dir of skippedDirs) args.push("--glob", `!**/${dir}/**`);
  // Dot-files count, .gitignore'd files too: the workspace is what it is, not what git tracks.
  args.push("--hidden", "--no-ignore", "--regexp", input.pattern, "--", target);
  return new Promise((resolve, reject) => {
    const child = spawn(rg, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], signal });
    const lines: string[] = [];
    let buffer = "";
    let stderr = "";
    let more = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), searchTimeoutMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (lines.length < max) lines.push(line.startsWith("./") ? line.slice(2) : line);
        else {
          more = true;
          child.kill("SIGKILL");
        }
      }
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c.slice(0, 2000)));
    child.once("error", (err) => (clearTimeout(timer), reject(signal.aborted ? new ToolError("cancelled") : new ToolError(`ripgrep failed: ${err.message}`))));
    child.once("close", (code) => {
      clearTimeout(timer);
      if (code === 2 && !more && !lines.length) reject(new ToolError(`search failed: ${stderr.trim() || "ripgrep exited with code 2"}`));
      else resolve({ lines, more });
    });
  });
}

/** The same search without ripgrep. */
export async function scan(root: string, target: string, input: SearchInput, max: number, signal: AbortSignal): Promise<Found> {
  let regex: RegExp;
  try {
    regex = new RegExp(input.pattern, input.ignore_case ? "i" : "");
  } catch (err) {
    throw new ToolError(`the pattern is not a valid regular expression: ${(err as Error).message}`);
  }
  const globRe = input.glob ? globToRegExp(input.glob) : null;
  const base = target === "." ? "" : target;
  const { entries } = await walk(join(root, base), { maxDepth: 64, maxEntries: maxScannedFiles * 4 });
  // A file as the target: walk finds nothing under it.
  const files = entries.length ? entries.filter((e) => e.type === "file").map((e) => (base ? `${base}/${e.path}` : e.path)) : [base];
  files.sort();
  const lines: string[] = [];
  for (const file of files.slice(0, maxScannedFiles)) {
    if (signal.aborted) throw new ToolError("cancelled");
    if (globRe && !globRe.test(file) && !globRe.test(file.slice(file.lastIndexOf("/") + 1))) continue;
    const text = await readText(join(root, file));
    if (text === null) continue;
    const fileLines = text.split("\n");
    for (let i = 0; i < fileLines.length; i++) {
      if (!regex.test(fileLines[i])) continue;
      if (lines.length >= max) return { lines, more: true };
      const line = fileLines[i].length > maxLineChars ? `${fileLines[i].slice(0, maxLineChars)} [...]` : fileLines[i];
      lines.push(`${file}:${i + 1}:${line}`);
    }
  }
  return { lines, more: false };
}

/** A file's text; null for binary (a NUL byte early on), unreadable or huge files. */
async function readText(path: string): Promise<string | null> {
  const handle = await open(path, "r").catch(() => null);
  if (!handle) return null;
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > maxScannedBytes) return null;
    const buf = await handle.readFile();
    if (buf.subarray(0, 8192).includes(0)) return null;
    return buf.toString("utf8");
  } finally {
    await handle.close();
  }
}

/** `*` within a name, `**` across folders, `?` one character, `{a,b}` alternatives. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += glob[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "{") re += "(?:";
    else if (c === "}") re += ")";
    else if (c === "," && re.includes("(?:")) re += "|";
    else re += c.replace(/[.+^$()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
