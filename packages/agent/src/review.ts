/**
 * @module review — the self-review: after a prompt changed files, a reviewer (a fast model, no tools) reads
 * the request and the diff and answers APPROVED or a list of issues. Issues go back to the main model as a
 * fix pass; the loop ends on APPROVED or after the last allowed fix pass.
 */
import { createTwoFilesPatch } from "diff";
import type { ContentBlockParam } from "@anthropic-ai/sdk/resources/messages";
import type { Llm, LlmResult, StreamHandlers } from "./llm.ts";
import { clip } from "./tools/index.ts";
import type { Workspace } from "./tools/index.ts";

/** Starts the message that hands a review's findings to the main model (and marks it on replay). */
export const reviewMarker = "[Self-review]";
const maxDiffChars = 60_000;

const reviewerSystem = `You review changes a coding agent just made to a project, before the user sees them.
You get the user's request and the diff of every file the agent changed.
Check that the changes do what was asked, completely, and that they contain no bugs, syntax errors, broken references, leftover debugging or unrelated edits.
If they are right, answer with the single word APPROVED and nothing else.
Otherwise answer with a short numbered list of concrete issues: the file, what is wrong, and how to fix it. Do not restate the diff; do not suggest optional style changes.`;

/** Each file's content before the prompt first changed it. */
export class Changes {
  private readonly before = new Map<string, string | null>();

  touched(absolutePath: string, before: string | null): void {
    if (!this.before.has(absolutePath)) this.before.set(absolutePath, before);
  }

  get size(): number {
    return this.before.size;
  }

  /** A unified diff of every touched file against what it was; "" when nothing really changed. */
  async diff(ws: Workspace): Promise<string> {
    const patches: string[] = [];
    for (const [path, before] of [...this.before].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const after = await ws.readIfExists(path).catch(() => null);
      if (after === before) continue;
      const name = ws.relative(path);
      patches.push(createTwoFilesPatch(before === null ? "/dev/null" : `a/${name}`, after === null ? "/dev/null" : `b/${name}`, before ?? "", after ?? "", undefined, undefined, { context: 3 }));
    }
    return clip(patches.join("\n"), maxDiffChars);
  }
}

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
