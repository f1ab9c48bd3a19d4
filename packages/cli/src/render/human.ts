/**
 * @module human — a session's events as a person reads them in a terminal: the agent's text as it streams,
 * thinking dimmed and collapsed to one line, tool calls with their status, coloured diffs, terminal output, plan
 * checklists, a progress line while the sandbox is made, and usage and cost at the end of each turn.
 *
 * It only writes (to `out`): the same events give the same text, live or replayed. On a terminal, one "live"
 * line — the progress line, the thinking line, the newest tool call — is rewritten in place until something
 * else is printed; elsewhere (a pipe, a file) every line is final and no escape code is written.
 */
import type { AirlockEvent, EventDataMap } from "@airlock/client";
import type { Colors } from "./colors.ts";
import { colorDiff, diffOf } from "./diff.ts";

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface HumanOptions {
  colors: Colors;
  /** `collapsed` (default): one line per thought; `full`: thoughts streamed, dimmed. */
  thinking?: "collapsed" | "full";
}

type Update = EventDataMap["update"];
type ToolState = { title: string; status: string; line: string };
type PlanEntry = { content: string; status: string };

const toolIcon: Record<string, string> = { pending: "○", in_progress: "◐", completed: "✓", failed: "✗" };
const planIcon: Record<string, string> = { pending: "☐", in_progress: "◐", completed: "☑" };

export class HumanRenderer {
  private readonly c: Colors;
  private readonly tty: boolean;
  private readonly thinking: "collapsed" | "full";
  /** What the last output was: a text stream, a thought stream, or whole lines. */
  private block: "none" | "text" | "thought" = "none";
  private atLineStart = true;
  /** The line that may still be rewritten (terminal only), and what it shows. */
  private live: { kind: "progress" | "thought" | "tool" | "plan"; id?: string; rows: number } | null = null;
  private thought = "";
  private readonly tools = new Map<string, ToolState>();
  private readonly shownDiffs = new Set<string>();
  private plan: PlanEntry[] = [];
  private readonly turnStarts = new Map<string, number>();
  private readonly turnUsage = new Map<string, { inputTokens: number; outputTokens: number; costUsd: number }>();
  private ready = false;

  constructor(
    private readonly out: Output,
    options: HumanOptions,
  ) {
    this.c = options.colors;
    this.tty = Boolean(out.isTTY);
    this.thinking = options.thinking ?? "collapsed";
  }

  /** Shows one event. */
  event(e: AirlockEvent): void {
    switch (e.type) {
      case "session.status":
        return this.status(e.data, e.at);
      case "turn.started":
        this.turnStarts.set(e.data.turnId, Date.parse(e.at));
        return this.line(this.c.bold(`❯ ${promptText(e.data.prompt)}`), true);
      case "turn.ended":
        return this.turnEnded(e.data, e.at);
      case "update":
        return this.update(e.data);
      case "interaction.requested":
        return this.line(this.c.yellow(`? ${describeRequest(e.data)}`));
      case "interaction.resolved":
        return this.line(resolvedLine(e.data, this.c));
      case "file.changed":
        return this.fileChanged(e.data);
      case "terminal.output":
        return this.terminal(e.data);
      case "usage": {
        if (!e.turnId) return;
        const u = this.turnUsage.get(e.turnId) ?? { inputTokens: 0, outputTokens: 0, costUsd: 0 };
        u.inputTokens += e.data.inputTokens;
        u.outputTokens += e.data.outputTokens;
        u.costUsd += e.data.costUsd;
        this.turnUsage.set(e.turnId, u);
        return;
      }
      case "error":
        return this.line(this.c.red(`error${e.data.code ? ` [${e.data.code}]` : ""}: ${e.data.message}`));
      case "service.status": {
        const how = e.data.status === "exited" ? `exited (${e.data.signal ? `signal ${e.data.signal}` : `code ${e.data.exitCode ?? "?"}`})` : e.data.status;
        return this.line(this.c.dim(`service ${e.data.name}: ${how}`));
      }
    }
  }

  /** A note of the CLI's own (not an event), e.g. "reconnecting". */
  note(text: string): void {
    this.line(this.c.dim(text));
  }

  /** Ends the output cleanly (commits a live line, ends a half-written line). */
  finish(): void {
    this.commitLive();
    this.endBlock();
  }

  // ---------------------------------------------------------------- events

  private status(data: EventDataMap["session.status"], at: string): void {
    if (data.status === "provisioning") {
      const text = `${this.c.cyan("⠿")} provisioning${data.step ? `: ${data.step}` : ""}${data.reason ? ` (${data.reason})` : ""}…`;
      if (this.tty) return this.setLive("progress", undefined, text);
      return this.line(this.c.dim(text));
    }
    if (data.status === "ready" && !this.ready) {
      this.ready = true;
      if (this.live?.kind === "progress") this.clearLive();
      return this.line(`${this.c.green("●")} ready ${this.c.dim(new Date(at).toLocaleTimeString())}`);
    }
    if (data.status === "failed") return this.line(this.c.red(`● session failed${data.reason ? `: ${data.reason}` : ""}`));
    if (data.status === "stopped" || data.status === "paused" || data.status === "stopping") {
      return this.line(this.c.dim(`● ${data.status}${data.reason ? `: ${data.reason}` : ""}`));
    }
  }

  private turnEnded(data: EventDataMap["turn.ended"], at: string): void {
    const started = this.turnStarts.get(data.turnId);
    const parts: string[] = [data.stopReason];
    if (started !== undefined) parts.push(`${((Date.parse(at) - started) / 1000).toFixed(1)}s`);
    const usage = this.turnUsage.get(data.turnId);
    if (usage) parts.push(`${formatTokens(usage.inputTokens)} in`, `${formatTokens(usage.outputTokens)} out`, `$${usage.costUsd.toFixed(4)}`);
    const text = `── ${parts.join(" · ")}${data.error ? `: ${data.error}` : ""}`;
    const colour = data.stopReason === "end_turn" ? this.c.dim : data.stopReason === "cancelled" ? this.c.yellow : this.c.red;
    this.line(colour(text), true);
  }

  private update(u: Update): void {
    switch (u.sessionUpdate) {
      case "agent_message_chunk":
        if (u.content.type === "text") this.stream("text", u.content.text);
        return;
      case "agent_thought_chunk":
        if (u.content.type === "text") this.thoughtChunk(u.content.text);
        return;
      case "tool_call":
        return this.tool(u.toolCallId, u.title, u.status ?? "pending", u.content);
      case "tool_call_update":
        return this.tool(u.toolCallId, u.title ?? undefined, u.status ?? undefined, u.content ?? undefined);
      case "plan":
        return this.showPlan(u.entries);
      default:
        return; // mode, commands, usage_update…: nothing a reader needs
    }
  }

  private tool(id: string, title: string | undefined, status: string | undefined, content: unknown[] | undefined | null): void {
    const known = this.tools.get(id);
    const state: ToolState = known ?? { title: title ?? "tool", status: status ?? "pending", line: "" };
    if (title) state.title = title;
    const changed = !known || (status !== undefined && status !== state.status) || (title !== undefined && title !== known.title);
    if (status) state.status = status;
    this.tools.set(id, state);
    if (changed) {
      const icon = toolIcon[state.status] ?? "•";
      const paint = state.status === "completed" ? this.c.green : state.status === "failed" ? this.c.red : state.status === "in_progress" ? this.c.yellow : this.c.dim;
      const text = `${paint(icon)} ${state.title}${state.status === "failed" ? this.c.red(" (failed)") : ""}`;
      if (this.tty && (!known || (this.live?.kind === "tool" && this.live.id === id))) this.setLive("tool", id, text);
      else if (!known || state.status === "completed" || state.status === "failed") this.line(text);
    }
    for (const block of (content ?? []) as Array<Record<string, unknown>>) {
      if (block.type !== "diff" || typeof block.path !== "string" || typeof block.newText !== "string") continue;
      const key = `${id}\n${block.path}\n${block.newText}`;
      if (this.shownDiffs.has(key)) continue;
      this.shownDiffs.add(key);
      this.shownDiffs.add(`file\n${baseName(block.path)}`);
      this.block_(colorDiff(diffOf(relative(block.path), block.oldText as string | null, block.newText).replace(/\n$/, ""), this.c));
    }
  }

  private fileChanged(data: EventDataMap["file.changed"]): void {
    // An edit the agent showed as a tool call's diff is not shown twice.
    const shown = `file\n${baseName(data.path)}`;
    const verb = data.change;
    this.line(`${this.c.blue("✎")} ${verb} ${data.path}`);
    if (this.shownDiffs.delete(shown)) return;
    // The relay's diffs open with a "====" separator line: a unified diff needs none.
    if (data.diff) this.block_(colorDiff(data.diff.replace(/^=+\n/, "").replace(/\n$/, ""), this.c) + (data.truncated ? this.c.dim("\n[diff truncated]") : ""));
  }

  private terminal(data: EventDataMap["terminal.output"]): void {
    if (data.data) {
      const body = data.data.replace(/\r?\n$/, "");
      this.block_(body.split(/\r?\n/).map((l) => `${this.c.dim("│")} ${l}`).join("\n"));
    }
    if (data.exitCode !== undefined || data.signal) {
      const how = data.exitCode !== undefined && data.exitCode !== null ? `exit ${data.exitCode}` : `signal ${data.signal}`;
      this.line(this.c.dim(`│ ${how}`));
    }
  }

  private showPlan(entries: Array<{ content: string; status: string }>): void {
    const next = entries.map((e) => ({ content: e.content, status: e.status }));
    const lines = next.map((e) => {
      const icon = planIcon[e.status] ?? "•";
      return `${e.status === "completed" ? this.c.green(icon) : e.status === "in_progress" ? this.c.yellow(icon) : icon} ${e.content}`;
    });
    if (this.tty) {
      this.setLive("plan", undefined, lines.join("\n"), lines.length);
    } else {
      // Not a terminal: the whole list once, then only the entries that changed.
      const changed = this.plan.length === next.length ? lines.filter((_, i) => this.plan[i].status !== next[i].status || this.plan[i].content !== next[i].content) : lines;
      for (const l of changed) this.line(l);
    }
    this.plan = next;
  }

  private thoughtChunk(text: string): void {
    if (this.thinking === "full") return this.stream("thought", text);
    if (this.block !== "thought") {
      this.commitLive();
      this.endBlock();
      this.block = "thought";
      this.thought = "";
    }
    this.thought += text;
    if (this.tty) this.setLive("thought", undefined, this.thoughtLine(true));
  }

  private thoughtLine(live: boolean): string {
    const flat = this.thought.replace(/\s+/g, " ").trim();
    const words = flat ? flat.split(" ").length : 0;
    const width = Math.max(20, (this.out.columns ?? 80) - 24);
    const shown = live ? `…${flat.slice(-width)}` : truncate(flat, width);
    return this.c.dim(`✻ ${live ? "thinking" : `thought (${words} words)`}: ${shown}`);
  }

  // ---------------------------------------------------------------- writing

  /** Streamed text (the agent's message, or a thought shown in full). */
  private stream(kind: "text" | "thought", text: string): void {
    if (this.block !== kind) {
      this.commitLive();
      this.endBlock();
      this.block = kind;
    }
    this.write(kind === "thought" ? this.c.dim(text) : text);
  }

  /** A whole line (or several), after whatever was being streamed. */
  private line(text: string, spaced = false): void {
    this.commitLive();
    this.endBlock();
    if (spaced && this.wroteAnything) this.write("\n");
    this.write(`${text}\n`);
  }

  /** A multi-line block (a diff, terminal output). */
  private block_(text: string): void {
    if (text) this.line(text);
  }

  private wroteAnything = false;

  private write(text: string): void {
    if (!text) return;
    this.wroteAnything = true;
    this.out.write(text);
    this.atLineStart = text.endsWith("\n");
  }

  /** Ends a streamed block: a collapsed thought becomes its one line; a half-written line is ended. */
  private endBlock(): void {
    if (this.block === "thought" && this.thinking === "collapsed") {
      this.block = "none";
      this.write(`${this.thoughtLine(false)}\n`);
      return;
    }
    this.block = "none";
    if (!this.atLineStart) this.write("\n");
  }

  /** Shows `text` on the live line (terminal only), replacing what it showed. */
  private setLive(kind: NonNullable<HumanRenderer["live"]>["kind"], id: string | undefined, text: string, rows = 1): void {
    if (this.live && (this.live.kind !== kind || this.live.id !== id)) this.commitLive();
    if (this.live) this.eraseLive();
    else {
      if (kind !== "thought") this.endBlock();
      else if (!this.atLineStart) this.write("\n");
    }
    // Cut to the terminal's width: a wrapped line could not be erased as one row.
    const width = Math.max(20, (this.out.columns ?? 80) - 1);
    this.out.write(text.split("\n").map((l) => truncate(l, width)).join("\n"));
    this.wroteAnything = true;
    this.atLineStart = false;
    this.live = { kind, id, rows };
  }

  /** Leaves the live line as it is, as a final line. */
  private commitLive(): void {
    if (!this.live) return;
    if (this.live.kind === "thought") return this.clearLive(); // the thought block's end prints its summary
    this.live = null;
    this.write("\n");
  }

  /** Removes the live line from the screen. */
  private clearLive(): void {
    if (!this.live) return;
    this.eraseLive();
    this.live = null;
    this.atLineStart = true;
  }

  private eraseLive(): void {
    const up = (this.live?.rows ?? 1) - 1;
    this.out.write(`\r${up > 0 ? `\x1b[${up}A` : ""}\x1b[J`);
  }
}

export function promptText(prompt: Array<{ type: string; text?: string }>): string {
  return prompt.map((b) => (b.type === "text" ? (b.text ?? "") : `[${b.type}]`)).join(" ");
}

/** One line for a pending interaction: what is asked, and the answers it takes. */
export function describeRequest(data: EventDataMap["interaction.requested"]): string {
  if (data.kind === "permission") {
    const what = data.toolCall?.title ?? "a tool call";
    const options = (data.options ?? []).map((o) => `${o.name} [${o.optionId}]`).join(" · ");
    return `permission: ${what} — ${options}`;
  }
  return `question: ${data.prompt ?? "the agent asks for an answer"}`;
}

function resolvedLine(data: EventDataMap["interaction.resolved"], c: Colors): string {
  const by = data.by ? c.dim(` (by ${data.by})`) : "";
  if (data.outcome === "selected") return `${/reject|deny/i.test(data.optionId ?? "") ? c.red("✗") : c.green("✓")} ${data.optionId}${by}`;
  if (data.outcome === "answered") return `${c.green("✓")} answered: ${JSON.stringify(data.answer)}${by}`;
  return c.yellow(`✗ ${data.outcome}${by}`);
}

const formatTokens = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : n.toLocaleString("en-US"));

function truncate(text: string, width: number): string {
  // Escape codes take no room: count what is visible.
  const visible = text.replace(/\x1b\[[0-9;]*m/g, "");
  if (visible.length <= width) return text;
  return `${visible.slice(0, Math.max(0, width - 1))}…`;
}

const baseName = (path: string) => path.split("/").filter(Boolean).pop() ?? path;
const relative = (path: string) => path.replace(/^\/workspace\//, "").replace(/^\/+/, "");
