/**
 * @module view — reduces a session's events, in seq order, into the items the conversation shows.
 *
 * Pure and incremental: `reduce(view, event)` returns a new view in which only the items the event touched are
 * new objects, so memoised item components re-render only when their own item changed (a streamed token
 * re-renders one message, not the list). `reduceAll` applies a batch (one animation frame's worth) copying the
 * item list once rather than once per event. Replaying the log in pieces gives the same view as replaying it at
 * once, and an event at or below `lastSeq` changes nothing, so a duplicate or a replay is harmless.
 */
import type { AirlockEvent, SessionStatus } from "@airlock/client";

export type ToolStatus = "pending" | "in_progress" | "completed" | "failed";
export type Tone = "info" | "warn" | "bad";

export interface UsageTotals {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface TerminalState {
  terminalId: string;
  output: string;
  /** Output cut from the front to stay bounded. */
  clipped: boolean;
  exitCode?: number | null;
  signal?: string | null;
  done: boolean;
}

export interface PermissionOption {
  optionId: string;
  name: string;
  kind: string;
}

export interface InteractionState {
  interactionId: string;
  kind: "permission" | "question";
  toolCall?: ToolCallLike;
  options: PermissionOption[];
  prompt?: string;
  schema?: unknown;
  resolution?: { optionId?: string; answer?: unknown; outcome: string; by?: string };
}

/** The parts of an ACP tool call the view reads (the rest is kept as it came). */
export interface ToolCallLike {
  toolCallId?: string;
  title?: string | null;
  kind?: string | null;
  status?: string | null;
  rawInput?: unknown;
  rawOutput?: unknown;
  content?: ToolContent[] | null;
  locations?: Array<{ path: string; line?: number | null }> | null;
}

export type ToolContent =
  | { type: "content"; content: { type: string; text?: string; [k: string]: unknown } }
  | { type: "diff"; path: string; oldText?: string | null; newText: string }
  | { type: "terminal"; terminalId: string };

export type Item =
  /** The start of a turn: the user's prompt. */
  | { kind: "turn"; key: string; turnId: string; seq: number; text: string; attachments: string[]; at: string }
  /** How a turn ended: shown after its last item. */
  | { kind: "turn-end"; key: string; turnId: string; stopReason: string; error?: string; durationMs: number | null; usage: UsageTotals }
  /** User text replayed by the agent from an earlier conversation (ACP `user_message_chunk`). */
  | { kind: "user"; key: string; turnId?: string; text: string }
  | { kind: "message"; key: string; turnId?: string; messageId?: string; text: string }
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
      content: ToolContent[];
      locations: Array<{ path: string; line?: number | null }>;
      terminals: TerminalState[];
      interaction?: InteractionState;
    }
  /** A permission request or question not attached to a tool card already shown. */
  | { kind: "interaction"; key: string; turnId?: string; interaction: InteractionState }
  | { kind: "plan"; key: string; turnId?: string; entries: Array<{ content: string; status: string; priority?: string }> }
  | { kind: "file"; key: string; turnId?: string; path: string; change: "created" | "modified" | "deleted"; diff: string; truncated: boolean }
  /** Terminal output of no tool call shown (tool cards show their own terminals). */
  | { kind: "terminal"; key: string; turnId?: string; terminal: TerminalState; owned: boolean }
  /** `terminals`: the output of the setup commands (`setup-N` is step "setup N/M: …"). */
  | { kind: "setup"; key: string; steps: string[]; done: boolean; failed?: string; terminals: TerminalState[] }
  | { kind: "notice"; key: string; turnId?: string; tone: Tone; title: string; detail?: string };

export type ItemOf<K extends Item["kind"]> = Extract<Item, { kind: K }>;

export interface View {
  lastSeq: number;
  items: Item[];
  /** Item position by key. */
  index: Record<string, number>;
  status: SessionStatus | null;
  statusReason?: string;
  step?: string;
  /** The turn running now, if any. */
  runningTurnId: string | null;
  /** Ids of unresolved interactions, oldest first. */
  pending: string[];
  usage: UsageTotals;
  /** The agent's last context-window report (ACP `usage_update`). */
  context?: { used: number; size: number; costUsd?: number };
  /** A title the agent gave the session (ACP `session_info_update`). */
  title?: string;
  mode?: string;
  /** Bumped whenever the workspace may have changed: file events and finished tool calls. */
  workspaceVersion: number;
  terminals: Record<string, TerminalState>;
  /** terminalId → key of the tool item that shows it. */
  terminalOwner: Record<string, string>;
  /** interactionId → key of the item that shows it. */
  interactionOwner: Record<string, string>;
  /** turnId → when it started, and the usage counted during it. */
  turns: Record<string, { at: string; usage: UsageTotals }>;
  /** The setup's background services as their events tell (the API's `/services` has the rest). */
  services: Record<string, ServiceState>;
}

export interface ServiceState {
  status: "starting" | "running" | "exited";
  exitCode?: number | null;
  signal?: string | null;
  /** seq of the event that said so: a newer one means the list should be read again. */
  seq: number;
}

const zeroUsage = (): UsageTotals => ({ inputTokens: 0, outputTokens: 0, costUsd: 0 });

export const emptyView = (): View => ({
  lastSeq: 0,
  items: [],
  index: {},
  status: null,
  runningTurnId: null,
  pending: [],
  usage: zeroUsage(),
  workspaceVersion: 0,
  terminals: {},
  terminalOwner: {},
  interactionOwner: {},
  turns: {},
  services: {},
});

/** Keeps a long-running command's output bounded: the last this many characters. */
export const maxTerminalChars = 512 * 1024;

export function reduce(view: View, event: AirlockEvent): View {
  return reduceAll(view, [event]);
}

export function reduceAll(view: View, events: readonly AirlockEvent[]): View {
  let draft: View | null = null;
  for (const event of events) {
    if (event.seq <= (draft ?? view).lastSeq) continue;
    // The first event that changes anything copies the containers; later ones in the batch write into the copy.
    draft ??= {
      ...view,
      items: view.items.slice(),
      index: { ...view.index },
      pending: view.pending.slice(),
      terminals: { ...view.terminals },
      terminalOwner: { ...view.terminalOwner },
      interactionOwner: { ...view.interactionOwner },
      turns: { ...view.turns },
      services: { ...view.services },
    };
    apply(draft, event);
    draft.lastSeq = event.seq;
  }
  return draft ?? view;
}

/** Applies one event to a draft whose containers are its own (items themselves are shared and replaced). */
function apply(v: View, event: AirlockEvent): void {
  const turnId = event.turnId;
  switch (event.type) {
    case "session.status": {
      const { status, reason, step } = event.data;
      const was = v.status;
      v.status = status;
      // The workspace becomes readable once the sandbox is up: whatever read it before should read it again.
      if (was === "provisioning" && status !== "provisioning") v.workspaceVersion++;
      v.statusReason = reason;
      v.step = step;
      const setup = lastOf(v, "setup");
      const setupFailed = status === "failed" && setup !== undefined && !setup.done;
      if (status === "provisioning") {
        if (!setup || setup.done) put(v, { kind: "setup", key: `s${event.seq}`, steps: step ? [step] : [], done: false, terminals: [] });
        else if (step && setup.steps.at(-1) !== step) put(v, { ...setup, steps: [...setup.steps, step] });
      } else if (setup && !setup.done) {
        put(v, { ...setup, done: true, ...(status === "failed" ? { failed: reason ?? "provisioning failed" } : {}) });
      }
      if (status === "failed" && was !== "failed") sayFailure(v, `n${event.seq}`, reason, setupFailed);
      if (status === "stopped" && was !== "stopped") {
        const idle = reason?.toLowerCase().includes("idle");
        const deleted = reason === "deleted";
        put(v, {
          kind: "notice",
          key: `n${event.seq}`,
          tone: "info",
          title: idle ? "Stopped while idle — send a prompt to resume" : deleted ? "Session stopped and its sandbox removed" : "Session stopped",
          // An error notice of this run already said why (an agent that died): not twice.
          detail: idle || deleted || toldBefore(v, reason) ? undefined : reason,
        });
      }
      if (status === "paused" && was !== "paused") put(v, { kind: "notice", key: `n${event.seq}`, tone: "info", title: "Paused while idle — send a prompt to resume" });
      break;
    }
    case "turn.started": {
      const id = event.data.turnId;
      v.runningTurnId = id;
      v.turns[id] = { at: event.at, usage: v.turns[id]?.usage ?? zeroUsage() };
      const text: string[] = [];
      const attachments: string[] = [];
      for (const block of event.data.prompt as Array<{ type: string; text?: string; uri?: string; name?: string; resource?: { uri?: string } }>) {
        if (block.type === "text" && block.text !== undefined) text.push(block.text);
        else attachments.push(block.name ?? block.uri ?? block.resource?.uri ?? block.type);
      }
      put(v, { kind: "turn", key: `u${id}`, turnId: id, seq: event.seq, text: text.join("\n\n"), attachments, at: event.at });
      break;
    }
    case "turn.ended": {
      const id = event.data.turnId;
      if (v.runningTurnId === id) v.runningTurnId = null;
      const started = v.turns[id];
      const durationMs = started ? Date.parse(event.at) - Date.parse(started.at) : null;
      // ...and when the error event came first, the footer need not repeat it.
      const last = v.items[v.items.length - 1];
      const said = event.data.error && last?.kind === "notice" && last.turnId === id && sameError(last.title, event.data.error);
      put(v, { kind: "turn-end", key: `e${id}`, turnId: id, stopReason: event.data.stopReason, error: said ? undefined : event.data.error, durationMs, usage: started?.usage ?? zeroUsage() });
      // Whatever was still running in this turn is over now.
      for (let i = 0; i < v.items.length; i++) {
        const it = v.items[i];
        if (it.kind === "tool" && it.turnId === id && (it.status === "pending" || it.status === "in_progress")) v.items[i] = { ...it, status: event.data.stopReason === "end_turn" ? "completed" : "failed" };
      }
      v.workspaceVersion++;
      break;
    }
    case "update":
      applyUpdate(v, event.data as unknown as { sessionUpdate: string; [k: string]: any }, turnId, event.seq);
      break;
    case "interaction.requested": {
      const d = event.data;
      if (!v.pending.includes(d.interactionId)) v.pending.push(d.interactionId);
      const interaction: InteractionState = {
        interactionId: d.interactionId,
        kind: d.kind,
        toolCall: d.toolCall as ToolCallLike | undefined,
        options: ((d.options ?? []) as PermissionOption[]).map((o) => ({ optionId: o.optionId, name: o.name, kind: o.kind })),
        prompt: d.prompt,
        schema: d.schema,
      };
      // A request about a tool call already on screen is shown in that tool's card, not as a second card.
      const toolKey = d.toolCall?.toolCallId ? `t${d.toolCall.toolCallId}` : undefined;
      const tool = toolKey ? get(v, toolKey) : undefined;
      if (tool?.kind === "tool") {
        put(v, { ...tool, interaction });
        v.interactionOwner[d.interactionId] = tool.key;
      } else {
        const key = `i${d.interactionId}`;
        put(v, { kind: "interaction", key, turnId, interaction });
        v.interactionOwner[d.interactionId] = key;
      }
      break;
    }
    case "interaction.resolved": {
      const d = event.data;
      v.pending = v.pending.filter((id) => id !== d.interactionId);
      const owner = get(v, v.interactionOwner[d.interactionId] ?? "");
      const resolution = { optionId: d.optionId, answer: d.answer, outcome: d.outcome, by: d.by };
      if (owner?.kind === "tool" && owner.interaction) put(v, { ...owner, interaction: { ...owner.interaction, resolution } });
      else if (owner?.kind === "interaction") put(v, { ...owner, interaction: { ...owner.interaction, resolution } });
      break;
    }
    case "file.changed":
      put(v, { kind: "file", key: `f${event.seq}`, turnId, path: event.data.path, change: event.data.change, diff: event.data.diff, truncated: Boolean(event.data.truncated) });
      v.workspaceVersion++;
      break;
    case "terminal.output": {
      const d = event.data;
      const prev = v.terminals[d.terminalId];
      const ended = d.data === undefined && ("exitCode" in d || "signal" in d);
      let output = (prev?.output ?? "") + (d.data ?? "");
      let clipped = prev?.clipped ?? false;
      if (output.length > maxTerminalChars) {
        output = output.slice(output.length - maxTerminalChars);
        clipped = true;
      }
      const terminal: TerminalState = {
        terminalId: d.terminalId,
        output,
        clipped,
        exitCode: ended ? (d.exitCode ?? null) : prev?.exitCode,
        signal: ended ? (d.signal ?? null) : prev?.signal,
        done: ended || Boolean(prev?.done),
      };
      v.terminals[d.terminalId] = terminal;
      const owner = get(v, v.terminalOwner[d.terminalId] ?? "");
      const setup = d.terminalId.startsWith("setup-") ? lastOf(v, "setup") : undefined;
      // A setup command's output belongs to the setup card, under its step.
      if (setup) put(v, { ...setup, terminals: [...setup.terminals.filter((t) => t.terminalId !== d.terminalId), terminal] });
      else if (owner?.kind === "tool") put(v, { ...owner, terminals: owner.terminals.map((t) => (t.terminalId === d.terminalId ? terminal : t)) });
      else {
        const key = `x${d.terminalId}`;
        const item = get(v, key);
        put(v, { kind: "terminal", key, turnId: item?.kind === "terminal" ? item.turnId : turnId, terminal, owned: item?.kind === "terminal" ? item.owned : false });
      }
      if (ended) v.workspaceVersion++;
      break;
    }
    case "usage": {
      const d = event.data;
      v.usage = add(v.usage, d);
      if (turnId && v.turns[turnId]) {
        const usage = add(v.turns[turnId].usage, d);
        v.turns[turnId] = { ...v.turns[turnId], usage };
        const end = get(v, `e${turnId}`);
        if (end?.kind === "turn-end") put(v, { ...end, usage });
      }
      break;
    }
    case "service.status": {
      const { name, status, exitCode, signal } = event.data;
      v.services[name] = { status, seq: event.seq, ...(status === "exited" ? { exitCode, signal } : {}) };
      break;
    }
    case "error": {
      // A turn that failed already says why in its footer: the same message as an error event adds nothing.
      const end = turnId ? get(v, `e${turnId}`) : undefined;
      if (end?.kind === "turn-end" && end.error && sameError(event.data.message, end.error) && !event.data.detail) break;
      put(v, { kind: "notice", key: `n${event.seq}`, turnId, tone: "bad", title: event.data.message, detail: event.data.detail });
      break;
    }
  }
}

/**
 * One failure is said once. The server tells it as an `error` event, then (with the same words) as the status's
 * reason: the notice the error made becomes the failure's, or, when the sandbox could not even start, goes, as
 * the setup card already says why.
 */
function sayFailure(v: View, key: string, reason: string | undefined, setupFailed: boolean): void {
  const told = toldBefore(v, reason);
  if (setupFailed) {
    if (told) drop(v, told.key);
    return;
  }
  if (told) put(v, { ...told, title: "The session failed", detail: reason });
  else put(v, { kind: "notice", key, tone: "bad", title: "The session failed", detail: reason });
}

/**
 * The error notice of the current run (since its turn or setup began) that said `reason` already: the same
 * words, or the start of them (a failure's reason may add why it is final: "…; it crashed 3 times in a row").
 */
function toldBefore(v: View, reason: string | undefined): ItemOf<"notice"> | undefined {
  if (!reason) return undefined;
  for (let i = v.items.length - 1; i >= 0; i--) {
    const it = v.items[i];
    if (it.kind === "turn" || it.kind === "setup") return undefined;
    if (it.kind === "notice" && it.tone === "bad" && (sameError(it.title, reason) || reason.toLowerCase().startsWith(it.title.toLowerCase()))) return it;
  }
  return undefined;
}

function applyUpdate(v: View, u: { sessionUpdate: string; [k: string]: any }, turnId: string | undefined, seq: number): void {
  switch (u.sessionUpdate) {
    case "agent_message_chunk":
    case "agent_thought_chunk":
    case "user_message_chunk": {
      const kind = u.sessionUpdate === "agent_thought_chunk" ? "thought" : u.sessionUpdate === "user_message_chunk" ? "user" : "message";
      const text = u.content?.type === "text" ? (u.content.text as string) : describeBlock(u.content);
      const last = v.items[v.items.length - 1];
      const messageId: string | undefined = u.messageId ?? undefined;
      // Consecutive chunks of one kind in one turn (and one message, when the agent says which) are one block;
      // thinking and answering that alternate stay separate blocks, in order.
      if (last && last.kind === kind && last.turnId === turnId && (last.kind !== "message" || !messageId || !last.messageId || last.messageId === messageId)) {
        put(v, { ...last, text: last.text + text } as Item);
      } else if (kind === "message") put(v, { kind, key: `m${seq}`, turnId, messageId, text });
      else put(v, { kind, key: `${kind === "thought" ? "k" : "h"}${seq}`, turnId, text });
      break;
    }
    case "tool_call":
    case "tool_call_update": {
      const key = `t${u.toolCallId}`;
      const prev = get(v, key);
      const base: ItemOf<"tool"> =
        prev?.kind === "tool"
          ? prev
          : { kind: "tool", key, turnId, toolCallId: u.toolCallId, title: "Tool call", toolKind: "other", status: "pending", content: [], locations: [], terminals: [] };
      const tool: ItemOf<"tool"> = {
        ...base,
        ...(u.title != null ? { title: u.title } : {}),
        ...(u.kind != null ? { toolKind: u.kind } : {}),
        ...(u.status != null ? { status: u.status } : {}),
        ...(u.rawInput !== undefined && u.rawInput !== null ? { rawInput: u.rawInput } : {}),
        ...(u.rawOutput !== undefined && u.rawOutput !== null ? { rawOutput: u.rawOutput } : {}),
        ...(u.content != null ? { content: u.content } : {}),
        ...(u.locations != null ? { locations: u.locations } : {}),
      };
      // Terminals the tool call shows move into its card (and out of the conversation, if already there).
      const ids = tool.content.filter((c): c is Extract<ToolContent, { type: "terminal" }> => c?.type === "terminal").map((c) => c.terminalId);
      for (const id of ids) {
        if (v.terminalOwner[id] === key) continue;
        v.terminalOwner[id] = key;
        const loose = get(v, `x${id}`);
        if (loose?.kind === "terminal") put(v, { ...loose, owned: true });
      }
      if (ids.length || tool.terminals.length) {
        const terminals = ids.map((id) => v.terminals[id] ?? { terminalId: id, output: "", clipped: false, done: false });
        if (terminals.length !== tool.terminals.length || terminals.some((t, i) => t !== tool.terminals[i])) tool.terminals = terminals;
      }
      put(v, tool);
      if (prev?.kind === "tool" && prev.status !== tool.status && (tool.status === "completed" || tool.status === "failed")) v.workspaceVersion++;
      break;
    }
    case "plan":
      put(v, { kind: "plan", key: `p${turnId ?? "none"}`, turnId, entries: u.entries ?? [] });
      break;
    case "usage_update":
      v.context = { used: u.used, size: u.size, ...(u.cost?.currency === "USD" ? { costUsd: u.cost.amount } : {}) };
      break;
    case "session_info_update":
      if (u.title) v.title = u.title;
      break;
    case "current_mode_update":
      v.mode = u.currentModeId;
      break;
    case "notice":
      put(v, { kind: "notice", key: `n${seq}`, turnId, tone: u.severity === "error" ? "bad" : u.severity === "warning" ? "warn" : "info", title: u.title, detail: u.description ?? undefined });
      break;
    case "compaction_update":
      if (u.status === "completed" || u.status === "failed")
        put(v, { kind: "notice", key: `c${u.compactionId}`, turnId, tone: u.status === "failed" ? "warn" : "info", title: u.status === "failed" ? "Could not compact the context" : "The agent compacted its context", detail: u.error ?? undefined });
      break;
    default:
      // available_commands_update, config_option_update, ...: nothing to show in the conversation.
      break;
  }
}

function describeBlock(block: { type?: string; uri?: string; name?: string } | undefined): string {
  if (!block) return "";
  if (block.type === "resource_link") return `[${block.name ?? block.uri}]`;
  return `[${block.type}]`;
}

/** "the turn failed: x" and "x" are the same error. */
const sameError = (a: string, b: string) => {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || x.endsWith(`: ${y}`) || y.endsWith(`: ${x}`);
};

const add = (a: UsageTotals, b: UsageTotals): UsageTotals => ({
  inputTokens: a.inputTokens + (b.inputTokens || 0),
  outputTokens: a.outputTokens + (b.outputTokens || 0),
  costUsd: a.costUsd + (b.costUsd || 0),
});

function get(v: View, key: string): Item | undefined {
  const at = v.index[key];
  return at === undefined ? undefined : v.items[at];
}

function put(v: View, item: Item): void {
  const at = v.index[item.key];
  if (at === undefined) {
    v.index[item.key] = v.items.length;
    v.items.push(item);
  } else v.items[at] = item;
}

function drop(v: View, key: string): void {
  const at = v.index[key];
  if (at === undefined) return;
  v.items.splice(at, 1);
  delete v.index[key];
  for (let i = at; i < v.items.length; i++) v.index[v.items[i].key] = i;
}

function lastOf<K extends Item["kind"]>(v: View, kind: K): ItemOf<K> | undefined {
  for (let i = v.items.length - 1; i >= 0; i--) if (v.items[i].kind === kind) return v.items[i] as ItemOf<K>;
  return undefined;
}
