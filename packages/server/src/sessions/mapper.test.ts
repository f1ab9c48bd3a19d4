import { describe, expect, it } from "vitest";
import type { JournalRecord } from "@airlock/protocol";
import { type MapperState, mapRecords, rpcIds } from "./mapper.ts";

const state = (over: Partial<MapperState> = {}): MapperState => ({
  sessionId: "ses_1",
  status: "ready",
  acpSessionId: "acp1",
  runningTurnId: null,
  undelivered: new Map(),
  stopping: false,
  replaying: false,
  stderrTail: "",
  agentRunning: true,
  agentCrashes: 0,
  maxAgentCrashes: 3,
  ...over,
});

let seq = 0;
const agent = (msg: object): JournalRecord => ({ seq: ++seq, at: 1, kind: "agent", msg: { jsonrpc: "2.0", ...msg } as any });
const client = (msg: object): JournalRecord => ({ seq: ++seq, at: 1, kind: "client", msg: { jsonrpc: "2.0", ...msg } as any });
const chunk = (text: string) => agent({ method: "session/update", params: { sessionId: "acp1", update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text } } } });

describe("mapRecords", () => {
  it("maps a whole turn: started, verbatim updates, ended, with status changes in between", () => {
    const s = state();
    const { batch, actions } = mapRecords(s, [
      client({ id: "turn_a", method: "session/prompt", params: { prompt: [{ type: "text", text: "hi" }] } }),
      chunk("Hel"),
      chunk("lo"),
      agent({ id: "turn_a", result: { stopReason: "end_turn" } }),
    ]);
    expect(batch.events.map((e) => e.type)).toEqual(["turn.started", "session.status", "update", "update", "turn.ended", "session.status"]);
    expect(batch.events[2]).toEqual({ type: "update", turnId: "turn_a", data: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: "Hel" } } });
    expect(batch.journalOffset).toBe(seq);
    expect(batch.turns!.update!.map((u) => u.patch.status)).toEqual(["running", "ended"]);
    expect(actions).toEqual([{ type: "turnEnded", turnId: "turn_a" }]);
    expect(s.status).toBe("ready");
    expect(s.runningTurnId).toBeNull();
  });

  it("maps file records, deletions included, to file.changed in the turn that made them (before its end)", () => {
    const s = state();
    const file = (path: string, change: "created" | "modified" | "deleted", truncated?: boolean): JournalRecord => ({ seq: ++seq, at: 1, kind: "file", path, change, diff: `diff of ${path}`, ...(truncated ? { truncated } : {}) });
    const { batch } = mapRecords(s, [
      client({ id: "turn_f", method: "session/prompt", params: { prompt: [] } }),
      file("a.txt", "created"),
      file("big.bin", "modified", true),
      file("old.txt", "deleted"),
      agent({ id: "turn_f", result: { stopReason: "end_turn" } }),
    ]);
    expect(batch.events.filter((e) => e.type === "file.changed")).toEqual([
      { type: "file.changed", turnId: "turn_f", data: { path: "a.txt", change: "created", diff: "diff of a.txt" } },
      { type: "file.changed", turnId: "turn_f", data: { path: "big.bin", change: "modified", diff: "diff of big.bin", truncated: true } },
      { type: "file.changed", turnId: "turn_f", data: { path: "old.txt", change: "deleted", diff: "diff of old.txt" } },
    ]);
    expect(batch.events.at(-2)!.type).toBe("turn.ended");
  });

  it("makes a permission request a pending interaction, and marks its answer delivered when seen in the journal", () => {
    const s = state({ runningTurnId: "turn_a", status: "running" });
    const first = mapRecords(s, [agent({ id: 7, method: "session/request_permission", params: { toolCall: { toolCallId: "t" }, options: [{ optionId: "allow", kind: "allow_once", name: "Allow" }] } })]);
    const inserted = first.batch.interactions!.insert![0];
    expect(inserted).toMatchObject({ rpcId: 7, status: "pending", turnId: "turn_a", kind: "permission" });
    expect(first.batch.events.map((e) => e.type)).toEqual(["interaction.requested", "session.status"]);
    expect(s.status).toBe("awaiting_input");
    s.undelivered.get("7")!.pending = false; // answered through the API
    const second = mapRecords(s, [client({ id: 7, result: { outcome: { outcome: "selected", optionId: "allow" } } })]);
    expect(second.batch.interactions!.update).toEqual([{ id: inserted.id, patch: { delivered: true } }]);
    expect(s.undelivered.size).toBe(0);
  });

  it("stops the session when the agent exits on its own, ending the turn with the error and cancelling pending interactions", () => {
    const s = state({ runningTurnId: "turn_a", status: "awaiting_input", undelivered: new Map([["3", { id: "int_x", pending: true }]]) });
    const { batch, actions } = mapRecords(s, [
      { seq: ++seq, at: 1, kind: "stderr", data: "boom\n" },
      { seq: ++seq, at: 1, kind: "exit", code: 3, signal: null, requested: false },
    ]);
    expect(batch.events.map((e) => e.type)).toEqual(["error", "turn.ended", "interaction.resolved", "session.status"]);
    expect(batch.events[0].data).toEqual({ message: expect.stringContaining("code 3"), code: "agent_exited", exitCode: 3, signal: null, detail: "boom" });
    expect(batch.events[1].data).toMatchObject({ turnId: "turn_a", stopReason: "error" });
    expect(batch.session).toMatchObject({ status: "stopped", agentCrashes: 1, statusReason: expect.stringContaining("next prompt starts the agent again") });
    expect(actions.at(-1)).toEqual({ type: "agentExited", requested: false });
  });

  it("says disk_limit when the relay stopped the agent for its disk limit, and stops the session without counting a crash", () => {
    const s = state({ runningTurnId: "turn_a", status: "running", agentCrashes: 2 });
    const { batch } = mapRecords(s, [{ seq: ++seq, at: 1, kind: "exit", code: null, signal: "SIGKILL", requested: false, reason: "disk_limit", detail: "uses 30 MiB, over its limit of 20 MiB" }]);
    expect(batch.events.map((e) => e.type)).toEqual(["error", "turn.ended", "session.status"]);
    expect(batch.events[0].data).toMatchObject({ code: "disk_limit", detail: "uses 30 MiB, over its limit of 20 MiB" });
    expect(batch.session).toMatchObject({ status: "stopped", statusReason: expect.stringContaining("free space") });
    expect(s.agentCrashes).toBe(2);
  });

  it("fails the session after crashes in a row without a completed turn; a completed turn resets the count", () => {
    const crash = (s: MapperState) => mapRecords(s, [{ seq: ++seq, at: 1, kind: "exit", code: null, signal: "SIGKILL", requested: false }]);
    const s = state({ agentCrashes: 1 });
    expect(crash(s).batch.session).toMatchObject({ status: "stopped", agentCrashes: 2 });
    // Started again: a turn that completes clears the streak.
    Object.assign(s, { status: "ready", agentRunning: true });
    const ok = mapRecords(s, [client({ id: "turn_b", method: "session/prompt", params: { prompt: [] } }), agent({ id: "turn_b", result: { stopReason: "end_turn" } })]);
    expect(ok.batch.session).toMatchObject({ agentCrashes: 0 });
    Object.assign(s, { status: "ready", agentRunning: true, agentCrashes: 2 });
    const third = crash(s);
    expect(third.batch.session).toMatchObject({ status: "failed", agentCrashes: 3, statusReason: expect.stringContaining("3 times in a row") });
    expect(third.batch.events[0].data).toMatchObject({ code: "agent_exited", signal: "SIGKILL" });
  });

  it("ignores an exit record of an earlier run that comes before the restarted agent's start", () => {
    const s = state({ status: "provisioning", agentRunning: false });
    const stale = mapRecords(s, [{ seq: ++seq, at: 1, kind: "exit", code: null, signal: "SIGTERM", requested: true }]);
    expect(stale.actions).toEqual([]);
    expect(stale.batch.events).toEqual([]);
    const started = mapRecords(s, [{ seq: ++seq, at: 1, kind: "started", pid: 9 }, { seq: ++seq, at: 1, kind: "exit", code: 1, signal: null, requested: false }]);
    expect(started.actions).toEqual([{ type: "agentExited", requested: false }]);
  });

  it("fails at once when the agent dies before it ever started a session", () => {
    const s = state({ status: "provisioning", acpSessionId: null });
    const { batch } = mapRecords(s, [{ seq: ++seq, at: 1, kind: "exit", code: 127, signal: null, requested: false }]);
    expect(batch.session).toMatchObject({ status: "failed", statusReason: expect.stringContaining("before it started a session") });
  });

  it("answers initialize and session/new with actions, and records the ACP session id", () => {
    const s = state({ status: "provisioning", acpSessionId: null });
    const init = mapRecords(s, [agent({ id: rpcIds.initialize, result: { protocolVersion: 1, agentCapabilities: { loadSession: true } } })]);
    expect(init.actions[0]).toMatchObject({ type: "initialized" });
    const ready = mapRecords(s, [agent({ id: rpcIds.newSession, result: { sessionId: "abc" } })]);
    expect(ready.batch.session).toMatchObject({ acpSessionId: "abc", status: "ready" });
    expect(ready.actions).toEqual([{ type: "sessionReady", loaded: false }]);
  });

  it("answers unknown agent requests with method-not-found, ignores sandbox-local fs/terminal traffic", () => {
    const s = state();
    const { batch, actions } = mapRecords(s, [
      agent({ id: 1, method: "fs/read_text_file", params: {} }),
      { seq: ++seq, at: 1, kind: "local", msg: { jsonrpc: "2.0", id: 1, result: { content: "" } } },
      agent({ id: 2, method: "x/unknown", params: {} }),
    ]);
    expect(batch.events).toEqual([]);
    expect(actions).toEqual([{ type: "reply", id: 2, error: { code: -32601, message: expect.stringContaining("x/unknown") } }]);
  });

  it("tells the session when the agent refuses a setup request (its permission mode); accepted ones pass silently", () => {
    const s = state({ runningTurnId: "turn_a", status: "running" });
    const { batch } = mapRecords(s, [
      agent({ id: "airlock:setup:0:session/set_mode", error: { code: -32602, message: "unknown mode nope" } }),
      agent({ id: "airlock:setup:1:session/set_config_option", result: {} }),
    ]);
    expect(batch.events).toEqual([{ type: "error", data: { message: "the agent refused session/set_mode after starting its session: unknown mode nope", code: "setup_failed" } }]);
  });
});

describe("mapRecords: setup and services", () => {
  const rec = (r: object): JournalRecord => ({ seq: ++seq, at: 1, ...r }) as JournalRecord;

  it("makes each setup command a provisioning step, a service's changes events, and a failed setup the session's failure", () => {
    const s = state({ status: "provisioning", acpSessionId: null });
    const { batch, actions } = mapRecords(s, [
      rec({ kind: "setup", step: 1, total: 2, command: "npm ci\n# and more", terminalId: "setup-1" }),
      rec({ kind: "terminal", terminalId: "setup-1", stream: "output", data: "added 3 packages\n" }),
      rec({ kind: "terminal", terminalId: "setup-1", stream: "exit", exitCode: 1, signal: null }),
      rec({ kind: "service", name: "web", status: "exited", exitCode: 2, signal: null }),
      rec({ kind: "prepare_failed", message: "setup command 1/2 failed with exit code 1: npm ci", exitCode: 1, detail: "line 1\nnpm ERR! missing\n" }),
      rec({ kind: "exit", code: null, signal: null, requested: false }),
    ]);
    expect(batch.events).toEqual([
      { type: "session.status", data: { status: "provisioning", step: "setup 1/2: npm ci" } },
      { type: "terminal.output", data: { terminalId: "setup-1", data: "added 3 packages\n" } },
      { type: "terminal.output", data: { terminalId: "setup-1", exitCode: 1, signal: null } },
      { type: "service.status", data: { name: "web", status: "exited", exitCode: 2, signal: null } },
      { type: "error", data: { message: "setup command 1/2 failed with exit code 1: npm ci", code: "setup_failed", exitCode: 1, detail: "line 1\nnpm ERR! missing" } },
      { type: "session.status", data: { status: "failed", reason: "setup command 1/2 failed with exit code 1: npm ci\nline 1\nnpm ERR! missing" } },
    ]);
    // The exit record that follows is the relay's end, not an agent crash: no second error, no crash counted.
    expect(actions).toEqual([{ type: "prepareFailed" }]);
    expect(batch.session).toMatchObject({ status: "failed" });
    expect(batch.session?.agentCrashes).toBeUndefined();
  });
});
