import { describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { emptyView, reduce, reduceAll } from "./view.ts";

let seq = 0;
const ev = (type: string, data: unknown, turnId?: string): AirlockEvent => ({ seq: ++seq, sessionId: "ses_x", at: "2026-01-01T00:00:00Z", type, ...(turnId ? { turnId } : {}), data }) as AirlockEvent;
const chunk = (text: string, kind = "agent_message_chunk") => ev("update", { sessionUpdate: kind, content: { type: "text", text } }, "turn_1");

function log(): AirlockEvent[] {
  seq = 0;
  return [
    ev("session.status", { status: "ready" }),
    ev("turn.started", { turnId: "turn_1", prompt: [{ type: "text", text: "do it" }] }, "turn_1"),
    ev("session.status", { status: "running" }),
    chunk("Let me ", "agent_thought_chunk"),
    chunk("think.", "agent_thought_chunk"),
    chunk("Hello "),
    chunk("world"),
    chunk("More thinking", "agent_thought_chunk"),
    chunk("Done."),
    ev("update", { sessionUpdate: "tool_call", toolCallId: "c1", title: "Edit a.ts", kind: "edit", status: "pending" }, "turn_1"),
    ev("update", { sessionUpdate: "tool_call_update", toolCallId: "c1", status: "in_progress" }, "turn_1"),
    ev("interaction.requested", { interactionId: "int_1", kind: "permission", options: [{ optionId: "allow", name: "Allow", kind: "allow_once" }] }, "turn_1"),
    ev("interaction.resolved", { interactionId: "int_1", optionId: "allow", outcome: "selected", by: "loopback" }, "turn_1"),
    ev("update", { sessionUpdate: "tool_call_update", toolCallId: "c1", status: "completed", content: [{ type: "diff", path: "a.ts", oldText: "a", newText: "b" }] }, "turn_1"),
    ev("file.changed", { path: "a.ts", change: "modified", diff: "--- a/a.ts\n+++ b/a.ts\n" }, "turn_1"),
    ev("terminal.output", { terminalId: "term_1", data: "\u001b[32mok\u001b[0m\n" }, "turn_1"),
    ev("terminal.output", { terminalId: "term_1", exitCode: 0, signal: null }, "turn_1"),
    ev("turn.ended", { turnId: "turn_1", stopReason: "end_turn" }, "turn_1"),
    ev("session.status", { status: "ready" }),
  ];
}

describe("the conversation view", () => {
  it("merges chunks into messages and keeps alternating thinking and text as separate blocks", () => {
    const v = reduceAll(emptyView(), log());
    expect(v.items.map((i) => i.kind)).toEqual(["user", "thought", "message", "thought", "message", "tool", "interaction", "file", "terminal"]);
    expect(v.items[1]).toMatchObject({ kind: "thought", text: "Let me think." });
    expect(v.items[2]).toMatchObject({ kind: "message", text: "Hello world" });
    expect(v.items[4]).toMatchObject({ kind: "message", text: "Done." });
    expect(v.status).toBe("ready");
    expect(v.runningTurnId).toBeNull();
  });

  it("follows a tool call from pending to completed with its diff, and records the permission answer", () => {
    const events = log();
    const mid = reduceAll(emptyView(), events.slice(0, 11));
    expect(mid.items.find((i) => i.kind === "tool")).toMatchObject({ status: "in_progress", title: "Edit a.ts", toolKind: "edit" });
    const end = reduceAll(mid, events.slice(11));
    expect(end.items.find((i) => i.kind === "tool")).toMatchObject({ status: "completed", content: [{ type: "diff", newText: "b" }] });
    expect(end.items.find((i) => i.kind === "interaction")).toMatchObject({ resolution: { optionId: "allow", by: "loopback" } });
    expect(end.pending).toEqual([]);
    expect(end.items.find((i) => i.kind === "terminal")).toMatchObject({ output: "\u001b[32mok\u001b[0m\n", exitCode: 0, done: true });
  });

  it("gives the same view when resumed from the middle, and ignores duplicates", () => {
    const events = log();
    const whole = reduceAll(emptyView(), events);
    for (const k of [1, 5, 9, 14]) {
      const resumed = reduceAll(reduceAll(emptyView(), events.slice(0, k)), events.slice(k));
      expect(resumed).toEqual(whole);
    }
    expect(reduceAll(whole, events.slice(3, 12))).toBe(whole);
  });

  it("replaces only the item an event touches", () => {
    const events = log();
    const before = reduceAll(emptyView(), events.slice(0, 6));
    const after = reduce(before, events[6]);
    expect(after.items[0]).toBe(before.items[0]);
    expect(after.items[after.items.length - 1]).not.toBe(before.items[before.items.length - 1]);
  });
});
