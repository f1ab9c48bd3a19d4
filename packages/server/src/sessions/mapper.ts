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
}

export interface MappedBatch {
  batch: CommitBatch;
  actions: MapperAction[];
}

const liveStatuses: readonly SessionStatus[] = ["ready", "running", "awaiting_input"];
const stderrTailBytes = 4096;

export const rpcKey = (id: JsonRpcId | null | undefined): string => JSON.stringify(id ?? null);

export function mapRecords(state: MapperState, records: JournalRecord[]): MappedBatch {
  const events: NewEvent[] = [];
  const turnUpdates: Array<{ id: string; patch: TurnPatch }> = [];
  const inserts: InteractionRecord[] = [];
  const interactionUpdates: Array<{ id: string; patch: Partial<InteractionRecord> }> = [];
  const session: SessionPatch = {};
  const actions: MapperAction[] = [];

  const emit = <T extends keyof EventDataMap>(type: T, data: EventDataMap[T], turnId = state.runningTurnId) => {
    events.push({ type, data, ...(turnId ? { turnId } : {}) } as NewEvent);
  };
  const setStatus = (status: SessionStatus, reason?: string) => {
    if (state.status === status && !reason) return;
    state.status = status;
    session.status = status;
    session.statusReason = reason ?? null;
    emit("session.status", reason ? { status, reason } : { status }, null);
  };
  const settleStatus = () => {
    if (!liveStatuses.includes(state.status)) return;
    const pending = [...state.undelivered.values()].some((i) => i.pending);
    setStatus(pending ? "awaiting_input" : state.runningTurnId ? "running" : "ready");
  };
  const fail = (message: string, detail?: string) => {
    emit("error", detail ? { message, detail } : { message });
    if (state.runningTurnId) endTurn(state.runningTurnId, "error", message);
    cancelPending();
    setStatus("failed", message);
  };
  const endTurn = (turnId: string, stopReason: EventDataMap["turn.ended"]["stopReason"], error?: string) => {
    emit("turn.ended", error ? { turnId, stopReason, error } : { turnId, stopReason }, turnId);
    turnUpdates.push({ id: turnId, patch: { status: "ended", stopReason, error: error ?? null, endedAt: Date.now() } });
    if (state.runningTurnId === turnId) state.runningTurnId = null;
    actions.push({ type: "turnEnded", turnId });
  };
  /** Pending interactions can no longer be answered (agent gone): resolve them as cancelled, never silently. */
  const cancelPending = () => {
    for (const [key, i] of state.undelivered) {
      if (!i.pending) continue;
      const resolution = { interactionId: i.id, outcome: "cancelled" as const };
      emit("interaction.resolved", resolution);
      interactionUpdates.push({ id: i.id, patch: { status: "resolved", resolution, resolvedAt: Date.now(), delivered: true } });
      state.undelivered.delete(key);
    }
  };

  for (const record of records) {
    switch (record.kind) {
      case "agent": {
        const msg = record.msg as { id?: JsonRpcId; method?: string; params?: any; result?: any; error?: { message: string; code: number } };
        if (msg.method !== undefined) {
          const hasId = msg.id !== undefined && msg.id !== null;
          if (msg.method === "session/update") {
            if (msg.params?.update && !state.replaying) emit("update", msg.params.update);
          } else if (msg.method === "session/request_permission" && hasId) {
            const interactionId = newId("interaction");
            const data: EventDataMap["interaction.requested"] = {
              interactionId,
              kind: "permission",
              toolCall: msg.params?.toolCall,
              options: msg.params?.options ?? [],
            };
            addInteraction(interactionId, msg.id!, data);
          } else if (msg.method === "elicitation/create" && hasId) {
            const interactionId = newId("interaction");
            const data: EventDataMap["interaction.requested"] = {
              interactionId,
              kind: "question",
              prompt: String(msg.params?.message ?? ""),
              schema: msg.params?.requestedSchema,
            };
            addInteraction(interactionId, msg.id!, data);
          } else if (msg.method.startsWith("fs/") || msg.method.startsWith("terminal/")) {
            // sandboxd answers these inside the sandbox; its answers are journaled as `local`.
          } else if (hasId) {
            actions.push({ type: "reply", id: msg.id!, error: { code: -32601, message: `method not supported by Airlock: ${msg.method}` } });
          }
        } else {
          onResponse(msg);
        }
        break;
      }
      case "client": {
        const msg = record.msg as { id?: JsonRpcId; method?: string; params?: any };
        if (msg.method === "session/prompt" && typeof msg.id === "string") {
          state.runningTurnId = msg.id;
          turnUpdates.push({ id: msg.id, patch: { status: "running", startedAt: record.at } });
          emit("turn.started", { turnId: msg.id, prompt: msg.params?.prompt ?? [] }, msg.id);
        } else if (msg.method === undefined) {
          const key = rpcKey(msg.id);
          const i = state.undelivered.get(key);
          if (i && !i.pending) {
            state.undelivered.delete(key);
            interactionUpdates.push({ id: i.id, patch: { delivered: true } });
          }
        }
        break;
      }
      case "file":
        emit("file.changed", { path: record.path, change: record.change, diff: record.diff, ...(record.truncated ? { truncated: true } : {}) });
        break;
      case "terminal":
        if (record.stream === "output") emit("terminal.output", { terminalId: record.terminalId, data: record.data ?? "" });
        else emit("terminal.output", { terminalId: record.terminalId, exitCode: record.exitCode ?? null, signal: record.signal ?? null });
        break;
      case "stderr":
      case "garbage":
        state.stderrTail = (state.stderrTail + record.data).slice(-stderrTailBytes);
        break;
      case "exit": {
        if (record.requested || state.stopping) {
          if (state.runningTurnId) endTurn(state.runningTurnId, "cancelled", "the agent was stopped");
          cancelPending();
        } else {
          const how = record.signal ? `signal ${record.signal}` : `code ${record.code}`;
          fail(`the agent process exited unexpectedly (${how})`, state.stderrTail.trim() || undefined);
        }
        actions.push({ type: "agentExited", requested: record.requested || state.stopping });
        break;
      }
      case "started":
      case "local":
        break;
    }
    settleStatus();
  }

  function addInteraction(interactionId: string, rpcId: JsonRpcId, data: EventDataMap["interaction.requested"]) {
    inserts.push({
      id: interactionId,
      sessionId: state.sessionId,
      turnId: state.runningTurnId,
      kind: data.kind,
      rpcId,
      request: data as unknown as Record<string, unknown>,
      status: "pending",
      resolution: null,
      delivered: false,
      createdAt: Date.now(),
      resolvedAt: null,
    });
    state.undelivered.set(rpcKey(rpcId), { id: interactionId, pending: true });
    emit("interaction.requested", data);
  }

  function onResponse(msg: { id?: JsonRpcId; result?: any; error?: { message: string; code: number } }) {
    const id = msg.id;
    if (id === rpcIds.initialize) {
      if (msg.error) fail(`the agent refused to initialize: ${msg.error.message}`);
      else actions.push({ type: "initialized", result: msg.result ?? {} });
    } else if (id === rpcIds.newSession || id === rpcIds.loadSession) {
      state.replaying = false;
      if (msg.error) fail(`the agent could not start a session: ${msg.error.message}`);
      else {
        if (id === rpcIds.newSession && msg.result?.sessionId) {
          state.acpSessionId = String(msg.result.sessionId);
          session.acpSessionId = state.acpSessionId;
        }
        if (state.status === "provisioning" || state.status === "stopped" || state.status === "paused") setStatus("ready");
        actions.push({ type: "sessionReady", loaded: id === rpcIds.loadSession });
      }
    } else if (typeof id === "string" && id.startsWith("airlock:setup:")) {
      // A refused setup request (the permission mode, ...) must not pass unseen: the agent runs, but not as asked.
      const method = id.split(":").slice(3).join(":");
      if (msg.error) emit("error", { message: `the agent refused ${method} after starting its session: ${msg.error.message}`, code: "setup_failed" }, null);
    } else if (typeof id === "string" && id.startsWith("turn_")) {
      if (msg.error) endTurn(id, "error", msg.error.message);
      else endTurn(id, msg.result?.stopReason ?? "end_turn");
      if (msg.error) emit("error", { message: `the turn failed: ${msg.error.message}`, code: String(msg.error.code) }, id);
    }
  }

  const batch: CommitBatch = { events };
  const last = records.at(-1);
  if (last) batch.journalOffset = last.seq;
  if (Object.keys(session).length) batch.session = session;
  if (turnUpdates.length) batch.turns = { update: turnUpdates };
  if (inserts.length || interactionUpdates.length) batch.interactions = { insert: inserts, update: interactionUpdates };
  return { batch, actions };
}
