/**
 * @module events — the session event log: `{seq, sessionId, at, type, turnId?, data}`.
 *
 * `seq` is per session, starts at 1, strictly increasing and gapless. `update` carries the ACP
 * `SessionUpdate` verbatim; Airlock invents no second schema for what ACP covers.
 */
import type { ContentBlock, PermissionOption, SessionUpdate, StopReason, ToolCallUpdate } from "@agentclientprotocol/sdk";

export type SessionStatus =
  | "provisioning"
  | "ready"
  | "running"
  | "awaiting_input"
  | "paused"
  | "stopping"
  | "stopped"
  | "failed";

/** Statuses after which nothing runs any more (the event log stays readable). */
export const finalStatuses: readonly SessionStatus[] = ["stopped", "failed"];

/** What happened to a file of the workspace. */
export type FileChangeKind = "created" | "modified" | "deleted";

export interface EventDataMap {
  "session.status": { status: SessionStatus; reason?: string; step?: string };
  "turn.started": { turnId: string; prompt: ContentBlock[] };
  "turn.ended": { turnId: string; stopReason: StopReason | "error"; error?: string };
  update: SessionUpdate;
  "interaction.requested": {
    interactionId: string;
    kind: "permission" | "question";
    toolCall?: ToolCallUpdate;
    options?: PermissionOption[];
    prompt?: string;
    schema?: unknown;
  };
  "interaction.resolved": {
    interactionId: string;
    optionId?: string;
    answer?: unknown;
    outcome: "selected" | "answered" | "cancelled" | "declined";
    by?: string;
  };
  /**
   * A file of the workspace changed: written through ACP's `fs/write_text_file`, or found by the relay's
   * snapshot compare after a tool call or a turn (agents that edit files themselves). `path` is relative to
   * the workspace; `diff` is a bounded unified diff (a one-line summary for binary or large files).
   */
  "file.changed": { path: string; change: FileChangeKind; diff: string; truncated?: boolean };
  "terminal.output": { terminalId: string; data?: string; exitCode?: number | null; signal?: string | null };
  usage: { inputTokens: number; outputTokens: number; costUsd: number; model?: string };
  /**
   * `code` says what kind of error (e.g. `agent_exited`, with the agent's `exitCode` or `signal`; `disk_limit` when
   * the sandbox went past its disk quota and its agent was stopped).
   */
  error: { message: string; code?: string; detail?: string; exitCode?: number | null; signal?: string | null };
  /** A background service of the session's setup started, became ready, or exited (its output is in its own log). */
  "service.status": { name: string; status: "starting" | "running" | "exited"; exitCode?: number | null; signal?: string | null };
}

export type EventType = keyof EventDataMap;
export const eventTypes = [
  "session.status",
  "turn.started",
  "turn.ended",
  "update",
  "interaction.requested",
  "interaction.resolved",
  "file.changed",
  "terminal.output",
  "usage",
  "error",
  "service.status",
] as const satisfies readonly EventType[];

/** An event as clients receive it. */
export type AirlockEvent = {
  [T in EventType]: { seq: number; sessionId: string; at: string; type: T; turnId?: string; data: EventDataMap[T] };
}[EventType];

/** An event to append: the store assigns `seq` and `at`. */
export type NewEvent = {
  [T in EventType]: { type: T; turnId?: string; data: EventDataMap[T] };
}[EventType];

/**
 * An event as the store keeps it: `data` stays serialized so that replay and fan-out never parse it again.
 */
export interface EventRow {
  seq: number;
  sessionId: string;
  /** Milliseconds since the epoch. */
  at: number;
  type: EventType;
  turnId: string | null;
  /** `data` as JSON text. */
  data: string;
}

/** The client-facing JSON of a stored event, built without re-parsing `data`. */
export function eventJson(row: EventRow): string {
  const turn = row.turnId === null ? "" : `,"turnId":${JSON.stringify(row.turnId)}`;
  return `{"seq":${row.seq},"sessionId":"${row.sessionId}","at":"${isoOf(row.at)}","type":"${row.type}"${turn},"data":${row.data}}`;
}

// The events of one commit share their `at`: a burst formats the same date thousands of times in a row.
let lastAt = Number.NaN;
let lastIso = "";
function isoOf(at: number): string {
  if (at !== lastAt) {
    lastAt = at;
    lastIso = new Date(at).toISOString();
  }
  return lastIso;
}

/** One SSE frame for a stored event. */
export function sseFrame(row: EventRow): string {
  return `id: ${row.seq}\nevent: ${row.type}\ndata: ${eventJson(row)}\n\n`;
}
