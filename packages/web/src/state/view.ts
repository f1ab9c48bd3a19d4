/**
 * @module view — reduces a session's events, in seq order, into the items the conversation shows.
 *
 * Pure and incremental: `reduce(view, event)` returns a new view in which only the items the event touched
 * are new objects, so memoised item components re-render only when their own item changed. Replaying the log
 * from any point in pieces gives the same view as replaying it at once.
 */
import type { AirlockEvent, SessionStatus } from "@airlock/protocol";

export type ToolStatus = "pending" | "in_progress" | "completed" | "failed";

export type Item =
  | { kind: "user"; key: string; turnId: string; text: string }
  | { kind: "message"; key: string; turnId?: string; text: string }
  | { kind: "thought"; key: string; turnId?: string; text: string }
  | {
      kind: "tool";
      key: string;
      turnId?: string;
      toolCallId: string;
      title: string;
      toolKind: string;
      status: ToolStatus;
      rawInput?: unknown;
      rawOutput?: unknown;
      content: any[];
      locations: Array<{ path: string; line?: number }>;
    }
  | { kind: "plan"; key: string; turnId?: string; entries: Array<{ content: string; status: string; priority?: string }> }
  | {
      kind: "interaction";
      key: string;
      turnId?: string;
      interactionId: string;
      interaction: "permission" | "question";
      toolCall?: any;
      options: Array<{ optionId: string; name: string; kind: string }>;
      prompt?: string;
      resolution?: { optionId?: string; answer?: unknown; outcome: string; by?: string };
    }
  | { kind: "file"; key: string; turnId?: string; path: string; change: string; diff: string }
  | { kind: "terminal"; key: string; turnId?: string; terminalId: string; output: string; exitCode?: number | null; signal?: string | null; done: boolean }
  | { kind: "error"; key: string; turnId?: string; message: string; detail?: string }
  | { kind: "notice"; key: string; turnId?: string; text: string; tone: "info" | "warn" | "bad" };

export interface View {
  lastSeq: number;
  items: Item[];
  /** item index by key */
  index: Record<string, number>;
  status: SessionStatus | null;
  statusReason?: string;
  step?: string;
  runningTurnId: string | null;
  pending: string[];
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  /** terminalId → tool item key that shows it */
  terminalOwner: Record<string, string>;
}

export const emptyView = (): View => ({
  lastSeq: 0,
  items: [],
  index: {},
  status: null,
  runningTurnId: null,
  pending: [],
  usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
  terminalOwner: {},
});

export function reduceAll(view: View, events: AirlockEvent[]): View {
  let v = view;
  for (const e of events) v = reduce(v, e);
  return v;
}

export function reduce(view: View, event: AirlockEvent): View {
  // Every event is applied once, in order: a replayed or duplicate event changes nothing.
  if (event.seq <= view.lastSeq) return view;
  const v: View = { ...view, lastSeq: event.seq };
  const items = (v.items = view.items.slice());
  const put = (item: Item) => {
    const at = v.index[item.key];
    if (at === undefined) {
      v.index = { ...v.index, [item.key]: items.length };
      items.push(item);
    } else items[at] = item;
  };
  const get = (key: string) => (v.index[key] === undefined ? undefined : items[v.index[key]]);
  const last = items[items.length - 1];
  const turnId = event.turnId;

  switch (event.type) {
    case "session.status": {
      v.status = event.data.status;
      v.statusReason = event.data.reason;
      v.step = event.data.step;
      if (event.data.status === "failed" && event.data.reason) put({ kind: "notice", key: `s${event.seq}`, text: `Session failed: ${event.data.reason}`, tone: "bad" });
      if (event.data.status === "stopped") put({ kind: "notice", key: `s${event.seq}`, text: event.data.reason?.startsWith("idle") ? "Stopped while idle. Send a prompt to resume." : `Session stopped${event.data.reason ? ` (${event.data.reason})` : ""}.`, tone: "info" });
      break;
    }
    case "turn.started": {
      v.runningTurnId = event.data.turnId;
      const text = event.data.prompt.map((b: any) => (b.type === "text" ? b.text : `[${b.type}]`)).join("\n");
      put({ kind: "user", key: `u${event.data.turnId}`, turnId: event.data.turnId, text });
      break;
    }
    case "turn.ended": {
      if (v.runningTurnId === event.data.turnId) v.runningTurnId = null;
      const reason = event.data.stopReason;
      if (reason === "cancelled") put({ kind: "notice", key: `e${event.seq}`, turnId, text: "Turn cancelled.", tone: "warn" });
      else if (reason === "error") put({ kind: "notice", key: `e${event.seq}`, turnId, text: `Turn failed${event.data.error ? `: ${event.data.error}` : "."}`, tone: "bad" });
      else if (reason !== "end_turn") put({ kind: "notice", key: `e${event.seq}`, turnId, text: `Turn ended: ${reason.replace(/_/g, " ")}.`, tone: "warn" });
      break;
    }
    case "update": {
      const u = event.data as any;
      switch (u.sessionUpdate) {
        case "agent_message_chunk":
        case "agent_thought_chunk":
        case "user_message_chunk": {
          const kind = u.sessionUpdate === "agent_thought_chunk" ? "thought" : u.sessionUpdate === "user_message_chunk" ? "user" : "message";
          const text = u.content?.type === "text" ? u.content.text : u.content ? `[${u.content.type}]` : "";
          if (kind === "user") {
            if (last?.kind === "user" && !last.turnId) put({ ...last, text: last.text + text });
            else put({ kind: "user", key: `h${event.seq}`, turnId: "", text });
          } else if (last && last.kind === kind && last.turnId === turnId) put({ ...last, text: last.text + text });
          else put({ kind, key: `${kind[0]}${event.seq}`, turnId, text });
          break;
        }
        case "tool_call": {
          const key = `t${u.toolCallId}`;
          const prev = get(key) as Extract<Item, { kind: "tool" }> | undefined;
          const tool: Item = {
            kind: "tool",
            key,
            turnId,
            toolCallId: u.toolCallId,
            title: u.title ?? prev?.title ?? "Tool call",
            toolKind: u.kind ?? prev?.toolKind ?? "other",
            status: u.status ?? prev?.status ?? "pending",
            rawInput: u.rawInput ?? prev?.rawInput,
            rawOutput: u.rawOutput ?? prev?.rawOutput,
            content: u.content ?? prev?.content ?? [],
            locations: u.locations ?? prev?.locations ?? [],
          };
          put(tool);
          claimTerminals(v, tool);
          break;
        }
        case "tool_call_update": {
          const key = `t${u.toolCallId}`;
          const prev = get(key) as Extract<Item, { kind: "tool" }> | undefined;
          const base = prev ?? { kind: "tool" as const, key, turnId, toolCallId: u.toolCallId, title: "Tool call", toolKind: "other", status: "pending" as ToolStatus, content: [], locations: [] };
          const tool: Item = {
            ...base,
            ...(u.title != null ? { title: u.title } : {}),
            ...(u.kind != null ? { toolKind: u.kind } : {}),
            ...(u.status != null ? { status: u.status } : {}),
            ...(u.rawInput != null ? { rawInput: u.rawInput } : {}),
            ...(u.rawOutput != null ? { rawOutput: u.rawOutput } : {}),
            ...(u.content != null ? { content: u.content } : {}),
            ...(u.locations != null ? { locations: u.locations } : {}),
          };
          put(tool);
          claimTerminals(v, tool);
          break;
        }
        case "plan": {
          const key = `p${turnId ?? "none"}`;
          put({ kind: "plan", key, turnId, entries: u.entries ?? [] });
          break;
        }
        case "usage_update":
          break;
        default:
          break;
      }
      break;
    }
    case "interaction.requested": {
      const d = event.data;
      v.pending = [...v.pending, d.interactionId];
      put({ kind: "interaction", key: `i${d.interactionId}`, turnId, interactionId: d.interactionId, interaction: d.kind, toolCall: d.toolCall, options: (d.options as any) ?? [], prompt: d.prompt });
      break;
    }
    case "interaction.resolved": {
      const d = event.data;
      v.pending = v.pending.filter((id) => id !== d.interactionId);
      const prev = get(`i${d.interactionId}`);
      if (prev?.kind === "interaction") put({ ...prev, resolution: { optionId: d.optionId, answer: d.answer, outcome: d.outcome, by: d.by } });
      break;
    }
    case "file.changed":
      put({ kind: "file", key: `f${event.seq}`, turnId, path: event.data.path, change: event.data.change, diff: event.data.diff });
      break;
    case "terminal.output": {
      const d = event.data;
      const key = `x${d.terminalId}`;
      const prev = get(key) as Extract<Item, { kind: "terminal" }> | undefined;
      const done = d.data === undefined;
      put({
        kind: "terminal",
        key,
        turnId: prev?.turnId ?? turnId,
        terminalId: d.terminalId,
        output: (prev?.output ?? "") + (d.data ?? ""),
        exitCode: done ? (d.exitCode ?? null) : prev?.exitCode,
        signal: done ? (d.signal ?? null) : prev?.signal,
        done: done || Boolean(prev?.done),
      });
      break;
    }
    case "usage":
      v.usage = { inputTokens: v.usage.inputTokens + event.data.inputTokens, outputTokens: v.usage.outputTokens + event.data.outputTokens, costUsd: v.usage.costUsd + event.data.costUsd };
      break;
    case "error":
      put({ kind: "error", key: `r${event.seq}`, turnId, message: event.data.message, detail: event.data.detail });
      break;
  }
  return v;
}

function claimTerminals(v: View, tool: Extract<Item, { kind: "tool" }>) {
  for (const c of tool.content) {
    if (c?.type === "terminal" && c.terminalId && !v.terminalOwner[c.terminalId]) v.terminalOwner = { ...v.terminalOwner, [c.terminalId]: tool.key };
  }
}
