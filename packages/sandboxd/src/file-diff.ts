/**
 * @module file-diff — the bounded unified diff of one file change, shared by `fs/write_text_file` and the
 * workspace snapshot compare, so a consumer sees the same shape whichever way a change was found.
 *
 * A side whose text is not at hand (a binary or large file, content not kept) gives a one-line summary instead
 * of a diff, marked `truncated`: a 50 MB file never turns into a 50 MB event.
 */
import { createTwoFilesPatch } from "diff";
import type { FileChangeKind } from "@airlock/protocol";

/** Largest text diffed (each side); past it the diff is a summary. */
export const maxDiffInputBytes = 10 * 1024 * 1024;
/** jsdiff gives up past this (a pathological pair of texts must not stall the relay). */
const diffTimeoutMs = 2000;

export interface FileChange {
  path: string;
  change: FileChangeKind;
  diff: string;
  truncated: boolean;
}

/**
 * The diff of `path` between `before` and `after`. For `created` `before` is ignored, for `deleted` `after`
 * is; `null` means that side's text is not available, and `note` (e.g. "binary, 52428800 bytes") says why.
 */
export function fileDiff(path: string, change: FileChangeKind, before: string | null, after: string | null, maxDiffBytes: number, note?: string): { diff: string; truncated: boolean } {
  const oldName = change === "created" ? "/dev/null" : `a/${path}`;
  const newName = change === "deleted" ? "/dev/null" : `b/${path}`;
  const oldText = change === "created" ? "" : before;
  const newText = change === "deleted" ? "" : after;
  const patch =
    oldText === null || newText === null || oldText.length > maxDiffInputBytes || newText.length > maxDiffInputBytes
      ? undefined
      : createTwoFilesPatch(oldName, newName, oldText, newText, undefined, undefined, { context: 3, timeout: diffTimeoutMs });
  if (patch === undefined) {
    const why = note ?? "the file is too large or changed too much for a diff";
    return { diff: cutToBytes(`--- ${oldName}\n+++ ${newName}\n@@ ${why} @@\n`, maxDiffBytes), truncated: true };
  }
  if (Buffer.byteLength(patch) <= maxDiffBytes) return { diff: patch, truncated: false };
  return { diff: cutToBytes(patch, maxDiffBytes), truncated: true };
}

/** The first `limit` bytes of `text`, cut on a character boundary. */
export function cutToBytes(text: string, limit: number): string {
  const buf = Buffer.from(text);
  if (buf.length <= limit) return text;
  let end = limit;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.toString("utf8", 0, end);
}
