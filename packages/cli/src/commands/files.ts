/**
 * @module files — `airlock diff ID` (the workspace's changes, coloured) and `airlock pull ID [DIR]` (the changed
 * files written into a local folder).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import { type CommandSpec, type Parsed, sessionId } from "../args.ts";
import type { Context } from "../context.ts";
import { exitCodes } from "../exit.ts";
import { colorsFor } from "../render/colors.ts";
import { changedFiles, colorDiff } from "../render/diff.ts";

export const diffSpec: CommandSpec = {
  name: "diff",
  summary: "Print the workspace's changes since the session began (a unified diff).",
  usage: "[options] ID",
  options: { json: { type: "boolean", description: "the API's object ({diff, truncated, notes})" } },
};

export const pullSpec: CommandSpec = {
  name: "pull",
  summary: "Download the files the session created or changed into DIR (default: the current folder).",
  usage: "ID [DIR]",
  options: { "dry-run": { type: "boolean", short: "n", description: "list what would be written, write nothing" } },
  details: "Files the session deleted are listed, not deleted here.",
};

export async function diff(ctx: Context, p: Parsed): Promise<number> {
  const answer = await ctx.client.sessions.diff(sessionId(p, "diff"));
  if (p.values.json) {
    ctx.stdout.write(`${JSON.stringify(answer)}\n`);
    return exitCodes.ok;
  }
  if (answer.diff) ctx.stdout.write(`${colorDiff(answer.diff.replace(/\n$/, ""), colorsFor(ctx.stdout))}\n`);
  else if (!answer.truncated) ctx.stderr.write("no changes\n");
  // On stderr: the diff on stdout stays a diff a tool can apply.
  for (const note of answer.notes) ctx.stderr.write(`note: ${note}\n`);
  if (answer.truncated) ctx.stderr.write("the diff is incomplete (truncated): see the notes above\n");
  return exitCodes.ok;
}

export async function pull(ctx: Context, p: Parsed): Promise<number> {
  const id = sessionId(p, "pull");
  const target = resolve(p.positionals[1] ?? ".");
  const answer = await ctx.client.sessions.diff(id);
  if (answer.truncated) ctx.stderr.write("the workspace diff is incomplete (truncated): some changed files may be missing\n");
  const files = changedFiles(answer.diff);
  if (files.length === 0) {
    ctx.stderr.write("no changes to pull\n");
    return exitCodes.ok;
  }
  let failed = 0;
  for (const file of files) {
    const dest = resolve(target, file.path);
    // The path comes from the server: it must stay inside DIR.
    if (relative(target, dest).startsWith("..") || dest === target || !dest.startsWith(target + sep)) {
      ctx.stderr.write(`skipped ${file.path}: outside ${target}\n`);
      failed++;
      continue;
    }
    if (file.deleted) {
      ctx.stdout.write(`deleted in the session (left here): ${file.path}\n`);
      continue;
    }
    const entry = await ctx.client.sessions.files(id, file.path);
    if (entry.type !== "file") continue;
    if (entry.truncated) {
      ctx.stderr.write(`skipped ${file.path}: too big to download through the API\n`);
      failed++;
      continue;
    }
    if (!p.values["dry-run"]) {
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, entry.encoding === "base64" ? Buffer.from(entry.content, "base64") : entry.content);
    }
    const shown = relative(process.cwd(), dest);
    ctx.stdout.write(`${p.values["dry-run"] ? "would write" : "wrote"} ${shown.startsWith("..") ? dest : shown}\n`);
  }
  return failed ? exitCodes.failed : exitCodes.ok;
}
