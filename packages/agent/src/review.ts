/**
 * @module review — the self-review: after a prompt changed files, a reviewer (a fast model, no tools) reads
 * the request and the diff and answers APPROVED or a list of issues. Issues go back to the main model as a
 * fix pass; the loop ends on APPROVED or after the last allowed fix pass.
 */
import { join } from "node:path";
import { createTwoFilesPatch } from "diff";
import { git } from "./git.ts";
import type { ContentBlockParam } from "@anthropic-ai/sdk/resources/messages";
import type { Llm, LlmResult, StreamHandlers } from "./llm.ts";
import { clip } from "./tools/index.ts";
import type { Workspace } from "./tools/index.ts";
import { walk } from "./tools/walk.ts";

/** Starts the message that hands a review's findings to the main model (and marks it on replay). */
export const reviewMarker = "[Self-review]";
const maxDiffChars = 60_000;
const maxCommandFileChars = 8_000;
/** The tree compared around a command: bounded, dependency and VCS folders left out (see walk.ts). */
const watchedTree = { maxDepth: 8, maxEntries: 5000 };

/** path → "size:mtime" of the files of the tree. */
async function stamps(root: string): Promise<Map<string, string>> {
  const { entries } = await walk(root, watchedTree);
  return new Map(entries.filter((e) => e.type === "file").map((e) => [e.path, `${e.size}:${e.mtimeMs}`]));
}

const reviewerSystem = `You review changes a coding agent just made to a project, before the user sees them.
You get the user's request and the diff of every file the agent changed.
Check that the changes do what was asked, completely, and that they contain no bugs, syntax errors, broken references, leftover debugging or unrelated edits.
If they are right, answer with the single word APPROVED and nothing else.
Otherwise answer with a short numbered list of concrete issues: the file, what is wrong, and how to fix it. Do not restate the diff; do not suggest optional style changes.`;

/**
 * The workspace's tracked files as they are now, as a git commit that touches nothing (`git stash create`; HEAD
 * when nothing is modified): what commands change can be diffed against it. Null outside a git repository or
 * without git.
 */
async function gitSnapshot(root: string): Promise<string | null> {
  const options = { timeoutMs: 10_000, maxBuffer: 1 << 20 };
  const stash = await git(root, ["stash", "create"], options);
  if (stash === null) return null;
  return stash.trim() || (await git(root, ["rev-parse", "--verify", "HEAD"], options))?.trim() || null;
}

/** A file's content in a snapshot; undefined when the snapshot does not hold it (untracked, too large). */
async function contentAt(root: string, rev: string, path: string): Promise<string | undefined> {
  return (await git(root, ["show", `${rev}:${path}`], { timeoutMs: 10_000, maxBuffer: 4 << 20 })) ?? undefined;
}

/**
 * What the prompt changed: each file's content before a file tool first changed it, and the files commands
 * changed (found by comparing the tree's sizes and mtimes around each command). A file a command created is
 * diffed against nothing; one it changed, against a git snapshot taken before the prompt's first command when the
 * workspace is a repository (else the reviewer sees what it is now).
 */
export class Changes {
  private readonly before = new Map<string, string | null>();
  /** Files commands changed: whether each existed before the first command that changed it. */
  private readonly byCommand = new Map<string, { existed: boolean }>();
  private snapshot: Promise<string | null> | undefined;

  touched(absolutePath: string, before: string | null): void {
    if (!this.before.has(absolutePath)) this.before.set(absolutePath, before);
  }

  /** Call before a command runs; the function it returns, after it, notes the files the command changed. */
  async watch(ws: Workspace): Promise<() => Promise<void>> {
    this.snapshot ??= gitSnapshot(ws.root);
    await this.snapshot;
    const before = await stamps(ws.root);
    const note = (path: string, existed: boolean) => {
      const absolute = join(ws.root, path);
      if (!this.byCommand.has(absolute)) this.byCommand.set(absolute, { existed });
    };
    return async () => {
      const after = await stamps(ws.root);
      for (const [path, stamp] of after) if (before.get(path) !== stamp) note(path, before.has(path));
      for (const path of before.keys()) if (!after.has(path)) note(path, true);
    };
  }

  get size(): number {
    return this.before.size + [...this.byCommand.keys()].filter((p) => !this.before.has(p)).length;
  }

  /** A unified diff of every touched file against what it was; "" when nothing really changed. */
  async diff(ws: Workspace): Promise<string> {
    const patches: string[] = [];
    const patch = (name: string, before: string | null, after: string | null) =>
      createTwoFilesPatch(before === null ? "/dev/null" : `a/${name}`, after === null ? "/dev/null" : `b/${name}`, before ?? "", after ?? "", undefined, undefined, { context: 3 });
    for (const [path, before] of [...this.before].sort(byPath)) {
      const after = await ws.readIfExists(path).catch(() => null);
      if (after !== before) patches.push(patch(ws.relative(path), before, after));
    }
    const snapshot = await this.snapshot;
    for (const [path, { existed }] of [...this.byCommand].sort(byPath)) {
      if (this.before.has(path)) continue;
      const now = await ws.readIfExists(path).catch(() => null);
      const name = ws.relative(path);
      const earlier = !existed ? null : snapshot ? await contentAt(ws.root, snapshot, name) : undefined;
      if (earlier !== undefined) {
        if (earlier !== now) patches.push(patch(name, earlier, now === null ? null : clip(now, maxCommandFileChars)));
      } else patches.push(now === null ? `${name}: deleted by a command\n` : `${name}: changed by a command (its earlier content was not kept); it is now:\n${clip(now, maxCommandFileChars)}\n`);
    }
    return clip(patches.join("\n"), maxDiffChars);
  }
}

const byPath = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : 1);

export interface Verdict {
  approved: boolean;
  text: string;
  result: LlmResult;
}

/** One review: the reviewer's answer streams to `handlers` as it comes. */
export async function review(
  llm: Llm,
  model: string,
  request: string,
  diff: string,
  handlers: Pick<StreamHandlers, "text" | "retrying">,
  signal: AbortSignal,
): Promise<Verdict> {
  const content: ContentBlockParam[] = [{ type: "text", text: `The user's request:\n\n${request}\n\nThe changes:\n\n\`\`\`diff\n${diff}\n\`\`\`` }];
  const result = await llm.stream(
    { model, max_tokens: 4096, system: [{ type: "text", text: reviewerSystem }], messages: [{ role: "user", content }] },
    { text: handlers.text, thinking: async () => {}, toolUse: () => {}, retrying: handlers.retrying },
    signal,
  );
  const text = result.content.map((b) => (b.type === "text" ? b.text : "")).join("").trim();
  return { approved: isApproval(text), text, result };
}

/** "APPROVED" (however emphasised), alone or leading a line of its own. */
export function isApproval(text: string): boolean {
  return /^[*_`\s]*APPROVED[*_`.!\s]*$/i.test(text.split("\n")[0] ?? "") && !/^\s*\d+[.)]\s/m.test(text);
}

/** What the main model is told for a fix pass. */
export function fixRequest(findings: string, pass: number, passes: number): string {
  return `${reviewMarker} A reviewer checked your changes and found issues (fix pass ${pass} of ${passes}):\n\n${findings}\n\nFix these issues now. If a point is wrong, say why in one sentence instead of changing the code.`;
}
