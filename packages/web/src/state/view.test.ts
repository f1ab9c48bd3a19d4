import { describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/client";
import { type Item, type View, emptyView, maxTerminalChars, reduce, reduceAll } from "./view.ts";

/** Builds a log with gapless seqs, one second apart. */
function logOf(...events: Array<[type: string, data: unknown, turnId?: string]>): AirlockEvent[] {
  return events.map(([type, data, turnId], i) => ({
    seq: i + 1,
    sessionId: "ses_1",
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    type,
    ...(turnId ? { turnId } : {}),
    data,
  })) as AirlockEvent[];
}
const T = "turn_1";
const chunk = (text: string, kind = "agent_message_chunk"): [string, unknown, string] => ["update", { sessionUpdate: kind, content: { type: "text", text } }, T];
const started: [string, unknown, string] = ["turn.started", { turnId: T, prompt: [{ type: "text", text: "fix the greeting" }] }, T];
const ended = (stopReason = "end_turn"): [string, unknown, string] => ["turn.ended", { turnId: T, stopReason }, T];
const kinds = (v: View) => v.items.map((i) => i.kind);
const only = <K extends Item["kind"]>(v: View, kind: K) => v.items.filter((i) => i.kind === kind) as Array<Extract<Item, { kind: K }>>;

/** A turn with every kind of event, as the scripted agent produces them. */
const fullLog = () =>
  logOf(
    ["session.status", { status: "provisioning" }],
    ["session.status", { status: "provisioning", step: "starting agent" }],
    ["session.status", { status: "ready" }],
    started,
    ["session.status", { status: "running" }],
    chunk("Let me ", "agent_thought_chunk"),
    chunk("look.", "agent_thought_chunk"),
    chunk("Changing "),
    chunk("it now."),
    ["update", { sessionUpdate: "tool_call", toolCallId: "c1", title: "Edit greeting.ts", kind: "edit", status: "pending", content: [] }, T],
    ["interaction.requested", { interactionId: "int_1", kind: "permission", toolCall: { toolCallId: "c1", title: "Edit greeting.ts" }, options: [{ optionId: "allow", name: "Allow", kind: "allow_once" }, { optionId: "reject", name: "Reject", kind: "reject_once" }] }, T],
    ["session.status", { status: "awaiting_input" }],
    ["interaction.resolved", { interactionId: "int_1", optionId: "allow", outcome: "selected", by: "loopback" }, T],
    ["update", { sessionUpdate: "tool_call_update", toolCallId: "c1", status: "in_progress" }, T],
    ["update", { sessionUpdate: "tool_call_update", toolCallId: "c1", status: "completed", content: [{ type: "diff", path: "greeting.ts", oldText: "hi\n", newText: "hello\n" }] }, T],
    ["file.changed", { path: "greeting.ts", change: "modified", diff: "--- a/greeting.ts\n+++ b/greeting.ts\n@@ -1 +1 @@\n-hi\n+hello\n" }, T],
    ["update", { sessionUpdate: "tool_call", toolCallId: "c2", title: "Run tests", kind: "execute", status: "in_progress", content: [{ type: "terminal", terminalId: "term_1" }] }, T],
    ["terminal.output", { terminalId: "term_1", data: "\u001b[32mok\u001b[0m\n" }, T],
    ["terminal.output", { terminalId: "term_1", exitCode: 0, signal: null }, T],
    ["update", { sessionUpdate: "tool_call_update", toolCallId: "c2", status: "completed" }, T],
    ["update", { sessionUpdate: "plan", entries: [{ content: "Edit", status: "completed" }, { content: "Test", status: "in_progress" }] }, T],
    ["update", { sessionUpdate: "plan", entries: [{ content: "Edit", status: "completed" }, { content: "Test", status: "completed" }] }, T],
    ["usage", { inputTokens: 100, outputTokens: 20, costUsd: 0.01 }, T],
    chunk("Done."),
    ended(),
    ["session.status", { status: "ready" }],
  );

describe("the conversation view", () => {
  it("merges streamed chunks into one message", () => {
    const v = reduceAll(emptyView(), logOf(started, chunk("Hel"), chunk("lo, "), chunk("world")));
    expect(kinds(v)).toEqual(["turn", "message"]);
    expect(only(v, "message")[0].text).toBe("Hello, world");
    expect(only(v, "turn")[0]).toMatchObject({ turnId: T, text: "fix the greeting" });
    expect(v.runningTurnId).toBe(T);
  });

  it("keeps thinking and answering that alternate as separate blocks, in order", () => {
    const v = reduceAll(emptyView(), logOf(started, chunk("a", "agent_thought_chunk"), chunk("b", "agent_thought_chunk"), chunk("c"), chunk("d", "agent_thought_chunk"), chunk("e"), chunk("f")));
    expect(v.items.slice(1).map((i) => [i.kind, "text" in i ? i.text : ""])).toEqual([
      ["thought", "ab"],
      ["message", "c"],
      ["thought", "d"],
      ["message", "ef"],
    ]);
  });

  it("follows a tool call from pending through in progress to completed with its diff", () => {
    const events = fullLog();
    const at = (n: number) => only(reduceAll(emptyView(), events.slice(0, n)), "tool").find((t) => t.toolCallId === "c1")!;
    expect(at(10)).toMatchObject({ status: "pending", title: "Edit greeting.ts", toolKind: "edit", content: [] });
    expect(at(14)).toMatchObject({ status: "in_progress" });
    expect(at(15)).toMatchObject({ status: "completed", content: [{ type: "diff", path: "greeting.ts", oldText: "hi\n", newText: "hello\n" }] });
    // the tool's terminal lives in its card, not as a loose item
    const v = reduceAll(emptyView(), events);
    const run = only(v, "tool").find((t) => t.toolCallId === "c2")!;
    expect(run.terminals).toEqual([{ terminalId: "term_1", output: "\u001b[32mok\u001b[0m\n", clipped: false, exitCode: 0, signal: null, done: true }]);
    expect(only(v, "terminal")).toEqual([]);
  });

  it("shows a permission request in its tool's card until it is resolved, and then what was chosen", () => {
    const events = fullLog();
    const asked = reduceAll(emptyView(), events.slice(0, 12));
    expect(asked.pending).toEqual(["int_1"]);
    expect(asked.status).toBe("awaiting_input");
    const tool = only(asked, "tool")[0];
    expect(tool.interaction).toMatchObject({ interactionId: "int_1", kind: "permission", options: [{ optionId: "allow" }, { optionId: "reject" }] });
    expect(tool.interaction!.resolution).toBeUndefined();
    expect(only(asked, "interaction")).toEqual([]);
    const answered = reduceAll(asked, events.slice(12, 13));
    expect(answered.pending).toEqual([]);
    expect(only(answered, "tool")[0].interaction!.resolution).toEqual({ optionId: "allow", answer: undefined, outcome: "selected", by: "loopback" });
  });

  it("shows a request about no known tool call, or a question, as a card of its own", () => {
    const v = reduceAll(
      emptyView(),
      logOf(
        started,
        ["interaction.requested", { interactionId: "int_q", kind: "question", prompt: "Which branch?" }, T],
        ["interaction.resolved", { interactionId: "int_q", answer: "main", outcome: "answered" }, T],
      ),
    );
    expect(only(v, "interaction")[0].interaction).toMatchObject({ kind: "question", prompt: "Which branch?", resolution: { answer: "main", outcome: "answered" } });
  });

  it("gives the same view when the log is replayed in two pieces, split anywhere", () => {
    const events = fullLog();
    const whole = reduceAll(emptyView(), events);
    for (let k = 0; k <= events.length; k++) {
      expect(reduceAll(reduceAll(emptyView(), events.slice(0, k)), events.slice(k))).toEqual(whole);
    }
    // and one event at a time
    expect(events.reduce(reduce, emptyView())).toEqual(whole);
    expect(kinds(whole)).toEqual(["setup", "turn", "thought", "message", "tool", "file", "tool", "plan", "message", "turn-end"]);
    expect(whole.items.find((i) => i.kind === "turn-end")).toMatchObject({ stopReason: "end_turn", durationMs: 21_000, usage: { inputTokens: 100, outputTokens: 20, costUsd: 0.01 } });
    expect(whole.items[0]).toMatchObject({ kind: "setup", steps: ["starting agent"], done: true });
  });

  it("ignores a duplicate or replayed event, returning the very same view", () => {
    const events = fullLog();
    const whole = reduceAll(emptyView(), events);
    expect(reduce(whole, events[8])).toBe(whole);
    expect(reduceAll(whole, events.slice(3, 12))).toBe(whole);
    const mid = reduceAll(emptyView(), events.slice(0, 9));
    // a batch that repeats what it already has, then goes on, applies only the new events
    expect(reduceAll(mid, events.slice(5))).toEqual(whole);
  });

  it("replaces only the item an event touches", () => {
    const events = fullLog();
    const before = reduceAll(emptyView(), events.slice(0, 8));
    const after = reduce(before, events[8]);
    expect(after.items.slice(0, -1).every((item, i) => item === before.items[i])).toBe(true);
    expect(after.items.at(-1)).not.toBe(before.items.at(-1));
    expect(before.items.at(-1)).toMatchObject({ text: "Changing " }); // the old view is left as it was
  });

  it("says a turn's error once, whichever of the footer and the error event comes first", () => {
    const endedWithError: [string, unknown, string] = ["turn.ended", { turnId: T, stopReason: "error", error: "scripted failure" }, T];
    const errorEvent: [string, unknown, string] = ["error", { message: "the turn failed: scripted failure" }, T];
    const footerFirst = reduceAll(emptyView(), logOf(started, endedWithError, errorEvent));
    expect(kinds(footerFirst)).toEqual(["turn", "turn-end"]);
    expect(only(footerFirst, "turn-end")[0].error).toBe("scripted failure");
    const eventFirst = reduceAll(emptyView(), logOf(started, errorEvent, endedWithError));
    expect(kinds(eventFirst)).toEqual(["turn", "notice", "turn-end"]);
    expect(only(eventFirst, "turn-end")[0].error).toBeUndefined();
    // an unrelated error is still shown
    const other = reduceAll(emptyView(), logOf(started, endedWithError, ["error", { message: "the sandbox ran out of disk" }, T]));
    expect(kinds(other)).toEqual(["turn", "turn-end", "notice"]);
  });

  it("puts each setup command's output under the setup card, says a failing one once, and tracks services", () => {
    const message = "setup command 2/2 failed with exit code 3: npm i -g nope";
    const v = reduceAll(
      emptyView(),
      logOf(
        ["session.status", { status: "provisioning" }],
        ["session.status", { status: "provisioning", step: "setup 1/2: echo hi" }],
        ["terminal.output", { terminalId: "setup-1", data: "hi\n" }],
        ["terminal.output", { terminalId: "setup-1", exitCode: 0, signal: null }],
        ["session.status", { status: "provisioning", step: "setup 2/2: npm i -g nope" }],
        ["terminal.output", { terminalId: "setup-2", data: "npm ERR! 404\n" }],
        ["terminal.output", { terminalId: "setup-2", exitCode: 3, signal: null }],
        ["service.status", { name: "web", status: "starting" }],
        ["service.status", { name: "web", status: "exited", exitCode: 1, signal: null }],
        ["error", { message, code: "setup_failed", exitCode: 3, detail: "npm ERR! 404" }],
        ["session.status", { status: "failed", reason: `${message}\nnpm ERR! 404` }],
      ),
    );
    expect(kinds(v)).toEqual(["setup"]);
    const setup = only(v, "setup")[0];
    expect(setup.steps).toEqual(["setup 1/2: echo hi", "setup 2/2: npm i -g nope"]);
    expect(setup.terminals.map((t) => [t.terminalId, t.output, t.exitCode])).toEqual([
      ["setup-1", "hi\n", 0],
      ["setup-2", "npm ERR! 404\n", 3],
    ]);
    expect(setup.failed).toContain("exit code 3");
    expect(v.services).toEqual({ web: { status: "exited", exitCode: 1, signal: null, seq: 9 } });
  });

  it("says a failure once: the error notice becomes the failure's, or goes when the setup card says it", () => {
    const why = "the agent process exited unexpectedly (code 3)";
    // As the server tells an agent that died mid-turn: the error, the turn's end, the failed status.
    const crashed = reduceAll(emptyView(), logOf(started, chunk("Going…"), ["error", { message: why }, T], ["turn.ended", { turnId: T, stopReason: "error", error: why }, T], ["session.status", { status: "failed", reason: why }]));
    expect(kinds(crashed)).toEqual(["turn", "message", "notice", "turn-end"]);
    expect(only(crashed, "notice")).toEqual([expect.objectContaining({ tone: "bad", title: "The session failed", detail: why })]);
    expect(only(crashed, "turn-end")[0].error).toBeUndefined();
    // A sandbox that could not start: its card says why; no notice repeats it.
    const setup = "provisioning failed: no space left on device";
    const unmade = reduceAll(emptyView(), logOf(["session.status", { status: "provisioning" }], ["error", { message: setup }], ["session.status", { status: "failed", reason: setup }]));
    expect(kinds(unmade)).toEqual(["setup"]);
    expect(only(unmade, "setup")[0].failed).toBe(setup);
    expect(unmade.index).toEqual({ [unmade.items[0].key]: 0 });
    // A reason that adds why the failure is final still counts as said; the notice then carries the whole reason.
    const final = `${why}; it crashed 3 times in a row without completing a turn, so the session has failed`;
    const exhausted = reduceAll(emptyView(), logOf(started, ["error", { message: why, code: "agent_exited" }, T], ["turn.ended", { turnId: T, stopReason: "error", error: why }, T], ["session.status", { status: "failed", reason: final }]));
    expect(only(exhausted, "notice")).toEqual([expect.objectContaining({ tone: "bad", title: "The session failed", detail: final })]);
    // An agent that died and left the session stopped (to restart on the next prompt): the stop does not repeat why.
    const stopped = reduceAll(emptyView(), logOf(started, ["error", { message: why, code: "agent_exited" }, T], ["turn.ended", { turnId: T, stopReason: "error", error: why }, T], ["session.status", { status: "stopped", reason: why }]));
    expect(only(stopped, "notice").map((n) => [n.tone, n.title, n.detail])).toEqual([["bad", why, undefined], ["info", "Session stopped", undefined]]);
    // A failure nothing said before still gets its notice.
    const silent = reduceAll(emptyView(), logOf(started, ended(), ["session.status", { status: "failed", reason: "the sandbox is gone" }]));
    expect(only(silent, "notice")).toEqual([expect.objectContaining({ title: "The session failed", detail: "the sandbox is gone" })]);
  });

  it("bounds terminal output and marks a cancelled turn's running tools as failed", () => {
    const big = "x".repeat(maxTerminalChars - 10);
    const v = reduceAll(
      emptyView(),
      logOf(
        started,
        ["update", { sessionUpdate: "tool_call", toolCallId: "c9", title: "Long", kind: "execute", status: "in_progress" }, T],
        ["terminal.output", { terminalId: "term_9", data: big }, T],
        ["terminal.output", { terminalId: "term_9", data: "0123456789abcdef" }, T],
        ended("cancelled"),
      ),
    );
    const loose = only(v, "terminal")[0];
    expect(loose.terminal.output.length).toBe(maxTerminalChars);
    expect(loose.terminal.output.endsWith("abcdef")).toBe(true);
    expect(loose.terminal.clipped).toBe(true);
    expect(only(v, "tool")[0].status).toBe("failed");
    expect(only(v, "turn-end")[0].stopReason).toBe("cancelled");
    expect(v.runningTurnId).toBeNull();
  });
});
