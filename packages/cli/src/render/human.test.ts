import { describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/client";
import { colorsFor } from "./colors.ts";
import { changedFiles } from "./diff.ts";
import { HumanRenderer } from "./human.ts";

let seq = 0;
const ev = (type: string, data: unknown, turnId = "turn_1"): AirlockEvent => ({ seq: ++seq, sessionId: "ses_1", at: new Date(1_000 + seq * 100).toISOString(), type, turnId, data }) as AirlockEvent;
const update = (data: Record<string, unknown>) => ev("update", data);
const turn = [
  ev("turn.started", { turnId: "turn_1", prompt: [{ type: "text", text: "do it" }] }),
  update({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text: "First I think " } }),
  update({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text: "about it." } }),
  update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: "Hello, " } }),
  update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: "world." } }),
  update({ sessionUpdate: "plan", entries: [{ content: "a", status: "pending", priority: "low" }, { content: "b", status: "pending", priority: "low" }] }),
  update({ sessionUpdate: "plan", entries: [{ content: "a", status: "completed", priority: "low" }, { content: "b", status: "pending", priority: "low" }] }),
  update({ sessionUpdate: "tool_call", toolCallId: "c1", title: "Edit x.ts", kind: "edit", status: "pending" }),
  update({ sessionUpdate: "tool_call_update", toolCallId: "c1", status: "completed", content: [{ type: "diff", path: "/workspace/x.ts", oldText: "a\n", newText: "b\n" }] }),
  ev("file.changed", { path: "x.ts", change: "modified", diff: "--- a/x.ts\n+++ b/x.ts\n@@ -1 +1 @@\n-a\n+b\n" }),
  ev("terminal.output", { terminalId: "t", data: "line 1\nline 2\n" }),
  ev("terminal.output", { terminalId: "t", exitCode: 0 }),
  ev("usage", { inputTokens: 1200, outputTokens: 30, costUsd: 0.0123 }),
  ev("turn.ended", { turnId: "turn_1", stopReason: "end_turn" }),
];

function render(events: AirlockEvent[], tty: boolean): string {
  let out = "";
  const r = new HumanRenderer({ write: (t: string) => (out += t), isTTY: tty, columns: 80 }, { colors: colorsFor({ isTTY: false }, {}) });
  for (const e of events) r.event(e);
  r.finish();
  return out;
}

describe("the human layout", () => {
  it("without a terminal: final lines only, no escape codes, every change shown once", () => {
    expect(render(turn, false)).toBe(
      [
        "❯ do it",
        "✻ thought (5 words): First I think about it.",
        "Hello, world.",
        "☐ a",
        "☐ b",
        "☑ a",
        "○ Edit x.ts",
        "✓ Edit x.ts",
        "--- a/x.ts",
        "+++ b/x.ts",
        "@@ -1,1 +1,1 @@",
        "-a",
        "+b",
        "✎ modified x.ts",
        "│ line 1",
        "│ line 2",
        "│ exit 0",
        "",
        "── end_turn · 1.3s · 1,200 in · 30 out · $0.0123",
        "",
      ].join("\n"),
    );
  });

  it("on a terminal: the thought, the plan and the tool call are live lines, rewritten in place", () => {
    const out = render(turn, true);
    expect(out).toContain("\r\x1b[J✻ thinking: …First I think about it.");
    // The plan's two rows are rewritten together (cursor up one row, clear below).
    expect(out).toContain("\r\x1b[1A\x1b[J☑ a\n☐ b");
    expect(out).toContain("○ Edit x.ts\r\x1b[J✓ Edit x.ts\n");
  });

  it("says a file was deleted, with its removed lines", () => {
    const out = render([ev("file.changed", { path: "gone.txt", change: "deleted", diff: "--- a/gone.txt\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-bye\n" })], false);
    expect(out).toContain("✎ deleted gone.txt\n--- a/gone.txt\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-bye");
  });

  it("reads the files of a git diff, deleted and quoted ones included", () => {
    const diff = 'diff --git a/a.txt b/a.txt\nnew file mode 100644\n--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+x\ndiff --git a/gone.md b/gone.md\ndeleted file mode 100644\n--- a/gone.md\n+++ /dev/null\ndiff --git "a/sp\\tace" "b/sp\\tace"\nBinary files a/sp\tace and b/sp\tace differ\n';
    expect(changedFiles(diff)).toEqual([
      { path: "a.txt", deleted: false },
      { path: "gone.md", deleted: true },
      { path: "sp\tace", deleted: false },
    ]);
  });
});
