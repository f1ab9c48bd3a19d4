/**
 * @module fs-methods — the agent's `fs/read_text_file` and `fs/write_text_file`, answered in the sandbox.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createTwoFilesPatch } from "diff";
import type { Workspace } from "./paths.ts";

const maxReadBytes = 10 * 1024 * 1024;

export interface FileChange {
  path: string;
  change: "created" | "modified";
  diff: string;
  truncated: boolean;
}

export function readTextFile(ws: Workspace, params: { path: string; line?: number | null; limit?: number | null }): { content: string } {
  const { host } = ws.resolve(params.path);
  const size = statSync(host).size;
  if (size > maxReadBytes) throw new Error(`${params.path} is ${size} bytes; read at most ${maxReadBytes} (use line/limit)`);
  let content = readFileSync(host, "utf8");
  if (params.line || params.limit) {
    const lines = content.split("\n");
    const start = Math.max(0, (params.line ?? 1) - 1);
    content = lines.slice(start, params.limit ? start + params.limit : undefined).join("\n");
  }
  return { content };
}

export function writeTextFile(ws: Workspace, params: { path: string; content: string }, maxDiffBytes: number): FileChange {
  if (typeof params.content !== "string") throw new Error("content must be a string");
  const { host, relative } = ws.resolve(params.path);
  const existed = existsSync(host);
  const before = existed ? readFileSync(host, "utf8") : "";
  mkdirSync(dirname(host), { recursive: true });
  writeFileSync(host, params.content);
  let diff = createTwoFilesPatch(existed ? `a/${relative}` : "/dev/null", `b/${relative}`, before, params.content, undefined, undefined, { context: 3 });
  const truncated = diff.length > maxDiffBytes;
  if (truncated) diff = diff.slice(0, maxDiffBytes);
  return { path: relative, change: existed ? "modified" : "created", diff, truncated };
}
