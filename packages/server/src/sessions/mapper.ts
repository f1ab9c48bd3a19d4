/**
 * @module mapper — turns sandboxd journal records into session events and state changes.
 *
 * Pure and synchronous: given the same state and records it always produces the same batch, so the driver
 * can rebuild its state from the store after a crash and continue from the stored journal offset.
 */
import type {
  CommitBatch,
  EventDataMap,
  InteractionRecord,
  JournalRecord,
  JsonRpcId,
  NewEvent,
  SessionPatch,
  SessionStatus,
  TurnPatch,
} from "@airlock/protocol";
import { newId } from "@airlock/protocol";
import { missingCommandCode } from "./mcp-servers.ts";

/** JSON-RPC ids of the control plane's own requests. Turn prompts use the turn id. */
export const rpcIds = {
  initialize: "airlock:initialize",
  newSession: "airlock:session/new",
  loadSession: "airlock:session/load",
  setMode: "airlock:session/set_mode",
} as const;

export type MapperAction =
  | { type: "initialized"; result: Record<string, unknown> }
  | { type: "sessionReady"; loaded: boolean }
  | { type: "turnEnded"; turnId: string }
  | { type: "agentExited"; requested: boolean }
  /** The agent asked something the control plane does not serve: answer it with an error. */
  | { type: "reply"; id: JsonRpcId; error: { code: number; message: string } };

export interface MapperState {
  sessionId: string;
  status: SessionStatus;
  acpSessionId: string | null;
  runningTurnId: string | null;
  /** Interactions whose answer has not reached the agent yet, by JSON-RPC id key. */
  undelivered: Map<string, { id: string; pending: boolean }>;
  /** Our own stop request is under way: an exit is expected. */
  stopping: boolean;
  /** The agent is replaying a loaded session's history, which the log already holds. */
  replaying: boolean;
  stderrTail: string;
  /** Unexpected agent exits since the last turn that ended without an error. */
  agentCrashes: number;
  /**
   * The journal's agent is the one being driven. False from a restart of the agent until its `started` record:
   * an exit record before that one belongs to an earlier run (stopped while no server listened), not to it.
   */
  agentRunning: boolean;
  /** At this many crashes in a row the session fails instead of waiting to restart the agent. */
  maxAgentCrashes: number;
}

export interface MappedBatch {
  batch: CommitBatch;
  actions: MapperAction[];
}

const liveStatuses: readonly SessionStatus[] = ["ready", "running", "awaiting_input"];
const stderrTailBytes = 4096;

export const rpcKey = (id: JsonRpcId | null | undefined): string => JSON.stringify(id ?? null);

export function mapRecords(state: MapperState, records: JournalRecord[]): MappedBatch {
  const b = new BatchBuilder(state);

  for (const record of records) {
    switch (record.kind) {
      case "agent": {
        const msg = record.msg as { id?: JsonRpcId; method?: string; params?: any; result?: any; error?: { message: string; code: number } };
        if (msg.method !== undefined) {
          const hasId = msg.id !== undefined && msg.id !== null;
          if (msg.method === "session/update") {
            if (msg.params?.update && !state.replaying) b.emit("update", msg.params.update);
          } else if (msg.method === "session/request_permission" && hasId) {
            const interactionId = newId("interaction");
            const data: EventDataMap["interaction.requested"] = {
              interactionId,
              kind: "permission",
              toolCall: msg.params?.toolCall,
              options: msg.params?.options ?? [],
            };
            b.addInteraction(interactionId, msg.id!, data);
          } else if (msg.method === "elicitation/create" && hasId) {
            const interactionId = newId("interaction");
            const data: EventDataMap["interaction.requested"] = {
              interactionId,
              kind: "question",
              prompt: String(msg.params?.message ?? ""),
              schema: msg.params?.requestedSchema,
            };
            b.addInteraction(interactionId, msg.id!, data);
          } else if (msg.method.startsWith("fs/") || msg.method.startsWith("terminal/")) {
            // sandboxd answers these inside the sandbox; its answers are journaled as `local`.
          } else if (hasId) {
            b.actions.push({ type: "reply", id: msg.id!, error: { code: -32601, message: `method not supported by Airlock: ${msg.method}` } });
          }
        } else {
          b.onResponse(msg);
        }
        break;
      }
      case "client": {
        const msg = record.msg as { id?: JsonRpcId; method?: string; params?: any };
        if (msg.method === "session/prompt" && typeof msg.id === "string") {
          state.runningTurnId = msg.id;
          b.turnUpdates.push({ id: msg.id, patch: { status: "running", startedAt: record.at } });
          b.emit("turn.started", { turnId: msg.id, prompt: msg.params?.prompt ?? [] }, msg.id);
        } else if (msg.method === undefined) {
          const key = rpcKey(msg.id);
          const i = state.undelivered.get(key);
          if (i && !i.pending) {
            state.undelivered.delete(key);
            b.interactionUpdates.push({ id: i.id, patch: { delivered: true } });
          }
        }
        break;
      }
      case "file":
        b.emit("file.changed", { path: record.path, change: record.change, diff: record.diff, ...(record.truncated ? { truncated: true } : {}) });
        break;
      case "terminal":
        if (record.stream === "output") b.emit("terminal.output", { terminalId: record.terminalId, data: record.data ?? "" });
        else b.emit("terminal.output", { terminalId: record.terminalId, exitCode: record.exitCode ?? null, signal: record.signal ?? null });
        break;
      case "stderr":
      case "garbage":
        state.stderrTail = (state.stderrTail + record.data).slice(-stderrTailBytes);
        break;
      case "exit": {
        if (!state.agentRunning) break;
        state.agentRunning = false;
        const requested = record.requested || state.stopping;
        if (requested) {
          if (state.runningTurnId) b.endTurn(state.runningTurnId, "cancelled", "the agent was stopped");
          b.cancelPending();
        } else {
          b.agentCrashed(record.code ?? null, record.signal ?? null);
        }
        b.actions.push({ type: "agentExited", requested });
        break;
      }
      case "started":
        state.agentRunning = true;
        break;
      case "local":
        break;
    }
    b.settleStatus();
  }

  return b.finish(records.at(-1)?.seq);
}

/** What one call of mapRecords collects; its methods are the mapper's steps (state changes and the events they make). */
class BatchBuilder {
  readonly events: NewEvent[] = [];
  readonly turnUpdates: Array<{ id: string; patch: TurnPatch }> = [];
  readonly inserts: InteractionRecord[] = [];
  readonly interactionUpdates: Array<{ id: string; patch: Partial<InteractionRecord> }> = [];
  readonly session: SessionPatch = {};
  readonly actions: MapperAction[] = [];

  constructor(private readonly state: MapperState) {}

  emit<T extends keyof EventDataMap>(type: T, data: EventDataMap[T], turnId = this.state.runningTurnId): void {
    this.events.push({ type, data, ...(turnId ? { turnId } : {}) } as NewEvent);
  }

  setStatus(status: SessionStatus, reason?: string): void {
    if (this.state.status === status && !reason) return;
    this.state.status = status;
    this.session.status = status;
    this.session.statusReason = reason ?? null;
    this.emit("session.status", reason ? { status, reason } : { status }, null);
  }

  settleStatus(): void {
    if (!liveStatuses.includes(this.state.status)) return;
    let pending = false;
    for (const i of this.state.undelivered.values()) pending ||= i.pending;
    this.setStatus(pending ? "awaiting_input" : this.state.runningTurnId ? "running" : "ready");
  }

  fail(message: string, detail?: string): void {
    this.emit("error", detail ? { message, detail } : { message });
    if (this.state.runningTurnId) this.endTurn(this.state.runningTurnId, "error", message);
    this.cancelPending();
    this.setStatus("failed", message);
  }

  /**
   * The agent died on its own (a crash, an OOM kill, an exit): the running turn ends with the error, and the
   * session stops with its sandbox kept, so the next prompt starts the agent again; only a streak of crashes
   * without a completed turn fails it, so an agent that cannot start is not restarted for ever.
   */
  agentCrashed(code: number | null, signal: string | null): void {
    const how = signal ? `signal ${signal}` : `code ${code}`;
    const message = `the agent process exited unexpectedly (${how})`;
    const tail = this.state.stderrTail.trim();
    this.emit("error", { message, code: "agent_exited", exitCode: code, signal, ...(tail ? { detail: tail } : {}) } as EventDataMap["error"]);
    if (this.state.runningTurnId) this.endTurn(this.state.runningTurnId, "error", message);
    this.cancelPending();
    const crashes = this.state.agentCrashes + 1;
    this.state.agentCrashes = crashes;
    this.session.agentCrashes = crashes;
    if (this.state.status === "provisioning" && this.state.acpSessionId === null) {
      // It never got as far as an ACP session: starting it again would fail the same way.
      this.setStatus("failed", `${message} before it started a session`);
    } else if (crashes >= this.state.maxAgentCrashes) {
      this.setStatus("failed", `${message}; it crashed ${crashes} times in a row without completing a turn, so the session has failed`);
    } else {
      this.setStatus("stopped", `${message}; the workspace is kept and the next prompt starts the agent again`);
    }
  }

  endTurn(turnId: string, stopReason: EventDataMap["turn.ended"]["stopReason"], error?: string): void {
    this.emit("turn.ended", error ? { turnId, stopReason, error } : { turnId, stopReason }, turnId);
    if (stopReason !== "error" && this.state.agentCrashes > 0) {
      this.state.agentCrashes = 0;
      this.session.agentCrashes = 0;
    }
    this.turnUpdates.push({ id: turnId, patch: { status: "ended", stopReason, error: error ?? null, endedAt: Date.now() } });
    if (this.state.runningTurnId === turnId) this.state.runningTurnId = null;
    this.actions.push({ type: "turnEnded", turnId });
  }

  /** Pending interactions can no longer be answered (agent gone): resolve them as cancelled, never silently. */
  cancelPending(): void {
    for (const [key, i] of this.state.undelivered) {
      if (!i.pending) continue;
      const resolution = { interactionId: i.id, outcome: "cancelled" as const };
      this.emit("interaction.resolved", resolution);
      this.interactionUpdates.push({ id: i.id, patch: { status: "resolved", resolution, resolvedAt: Date.now(), delivered: true } });
      this.state.undelivered.delete(key);
    }
  }

  addInteraction(interactionId: string, rpcId: JsonRpcId, data: EventDataMap["interaction.requested"]) {
    this.inserts.push({
      id: interactionId,
      sessionId: this.state.sessionId,
      turnId: this.state.runningTurnId,
      kind: data.kind,
      rpcId,
      request: data as unknown as Record<string, unknown>,
      status: "pending",
      resolution: null,
      delivered: false,
      createdAt: Date.now(),
      resolvedAt: null,
    });
    this.state.undelivered.set(rpcKey(rpcId), { id: interactionId, pending: true });
    this.emit("interaction.requested", data);
  }

  onResponse(msg: { id?: JsonRpcId; result?: any; error?: { message: string; code: number; data?: any } }) {
    const id = msg.id;
    if (id === rpcIds.initialize) {
      // The launch's own check (a stdio MCP server's command is missing) speaks for itself.
      if (msg.error) this.fail(msg.error.data?.airlock === missingCommandCode ? msg.error.message : `the agent refused to initialize: ${msg.error.message}`);
      else this.actions.push({ type: "initialized", result: msg.result ?? {} });
    } else if (id === rpcIds.newSession || id === rpcIds.loadSession) {
      this.state.replaying = false;
      if (msg.error) this.fail(`the agent could not start a session: ${msg.error.message}`);
      else {
        if (id === rpcIds.newSession && msg.result?.sessionId) {
          this.state.acpSessionId = String(msg.result.sessionId);
          this.session.acpSessionId = this.state.acpSessionId;
        }
        if (this.state.status === "provisioning" || this.state.status === "stopped" || this.state.status === "paused") this.setStatus("ready");
        this.actions.push({ type: "sessionReady", loaded: id === rpcIds.loadSession });
      }
    } else if (typeof id === "string" && id.startsWith("airlock:setup:")) {
      // A refused setup request (the permission mode, ...) must not pass unseen: the agent runs, but not as asked.
      const method = id.split(":").slice(3).join(":");
      if (msg.error) this.emit("error", { message: `the agent refused ${method} after starting its session: ${msg.error.message}`, code: "setup_failed" }, null);
    } else if (typeof id === "string" && id.startsWith("turn_")) {
      // A turn the control plane already ended (its relay was lost) gets no second end from a late answer.
      if (id !== this.state.runningTurnId) return;
      if (msg.error) this.endTurn(id, "error", msg.error.message);
      else this.endTurn(id, msg.result?.stopReason ?? "end_turn");
      if (msg.error) this.emit("error", { message: `the turn failed: ${msg.error.message}`, code: String(msg.error.code) }, id);
    }
  }

  finish(journalOffset: number | undefined): MappedBatch {
    const batch: CommitBatch = { events: this.events };
    if (journalOffset !== undefined) batch.journalOffset = journalOffset;
    if (Object.keys(this.session).length) batch.session = this.session;
    if (this.turnUpdates.length) batch.turns = { update: this.turnUpdates };
    if (this.inserts.length || this.interactionUpdates.length) batch.interactions = { insert: this.inserts, update: this.interactionUpdates };
    return { batch, actions: this.actions };
  }
}
