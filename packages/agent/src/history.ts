/**
 * @module history — a session's conversation, kept on disk in the sandbox's private home so that a new agent
 * process can continue it (`session/load` after Airlock stopped an idle agent), and replayed to the client as
 * ACP updates so it can show the conversation again.
 *
 * Kept as an append-only log, `<stateDir>/sessions/<id>.jsonl`: each save appends what changed since the last
 * one (new messages; the last message again when more was added to it; the settings when they changed), so a
 * save costs what the turn added, not the whole conversation (which grows with every file the agent read).
 * A line cut short by a crash is the last one, and is skipped on load. Kept in memory only when there is no
 * state folder. An earlier agent's whole-session `<id>.json` is still read.
 */
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SessionUpdate } from "@agentclientprotocol/sdk";
import type { ContentBlockParam } from "@anthropic-ai/sdk/resources/messages";
import type { PermissionMode } from "./config.ts";
import { reviewMarker } from "./review.ts";
import type { ChatMessage } from "./session.ts";
import { describeCall } from "./tool-calls.ts";
import type { Tool } from "./tools/index.ts";

export interface SavedSession {
  version: 1;
  cwd: string;
  modeId: PermissionMode;
  /** Tools the user allowed for the rest of the session. */
  allowAlways: string[];
  messages: ChatMessage[];
}

type Settings = Omit<SavedSession, "version" | "messages">;
/** One line of the log. */
type Entry = { settings: Settings } | { message: ChatMessage } | { last: ChatMessage };

export class HistoryFile {
  /** Messages on disk, the last of them as written, and the settings as written. */
  private written = 0;
  private lastJson = "";
  private settingsJson = "";
  /** What was read came from an earlier agent's whole-session file: the first save writes the log whole. */
  private fromLegacy = false;

  private constructor(private readonly path: string | null) {}

  /** The session's log (null path: nothing is kept on disk) and what it holds, if anything. */
  static open(stateDir: string | null, sessionId: string): { file: HistoryFile; saved: SavedSession | null } {
    // The id comes from the client on session/load: it must not name a path outside the folder.
    if (!stateDir || !/^[A-Za-z0-9_-]{1,128}$/.test(sessionId)) return { file: new HistoryFile(null), saved: null };
    const dir = join(stateDir, "sessions");
    const file = new HistoryFile(join(dir, `${sessionId}.jsonl`));
    let saved = file.read();
    if (!saved) {
      saved = legacy(join(dir, `${sessionId}.json`));
      file.fromLegacy = saved !== null;
    }
    return { file, saved };
  }

  /** Appends what changed since the last save. */
  save(session: SavedSession): void {
    if (!this.path) return;
    const { messages, version: _, ...settings } = session;
    // After a legacy file, or with fewer messages than on disk: the log is written again from the start.
    const rewrite = this.fromLegacy || this.written > messages.length;
    if (rewrite) {
      this.written = 0;
      this.fromLegacy = false;
    }
    let out = "";
    const settingsJson = JSON.stringify(settings);
    if (settingsJson !== this.settingsJson || rewrite) out += `{"settings":${settingsJson}}\n`;
    if (this.written > 0) {
      const lastJson = JSON.stringify(messages[this.written - 1]);
      if (lastJson !== this.lastJson) out += `{"last":${lastJson}}\n`;
      this.lastJson = lastJson;
    }
    for (; this.written < messages.length; this.written++) {
      this.lastJson = JSON.stringify(messages[this.written]);
      out += `{"message":${this.lastJson}}\n`;
    }
    this.settingsJson = settingsJson;
    if (!out) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      if (rewrite) {
        writeFileSync(`${this.path}.tmp`, out, { mode: 0o600 });
        renameSync(`${this.path}.tmp`, this.path);
      } else appendFileSync(this.path, out, { mode: 0o600 });
    } catch (err) {
      process.stderr.write(`airlock-agent: could not save the session to ${this.path}: ${(err as Error).message}\n`);
    }
  }

  private read(): SavedSession | null {
    let text: string;
    try {
      text = readFileSync(this.path!, "utf8");
    } catch {
      return null;
    }
    let settings: Settings | null = null;
    const messages: ChatMessage[] = [];
    for (const line of text.split("\n")) {
      let entry: Entry;
      try {
        entry = JSON.parse(line) as Entry;
      } catch {
        continue; // the empty tail, or a line a crash cut short
      }
      if ("settings" in entry) settings = entry.settings;
      else if ("message" in entry) messages.push(entry.message);
      else if ("last" in entry && messages.length) messages[messages.length - 1] = entry.last;
    }
    if (!settings) return null;
    this.written = messages.length;
    this.lastJson = messages.length ? JSON.stringify(messages[messages.length - 1]) : "";
    this.settingsJson = JSON.stringify(settings);
    return { version: 1, ...settings, messages };
  }
}

function legacy(path: string): SavedSession | null {
  try {
    const saved = JSON.parse(readFileSync(path, "utf8")) as SavedSession;
    return saved?.version === 1 && Array.isArray(saved.messages) ? saved : null;
  } catch {
    return null;
  }
}

/** The conversation as the updates a client would have seen: prompts, thoughts, answers and tool calls. */
export function replayOf(messages: ChatMessage[], tools: Map<string, Tool>): SessionUpdate[] {
  const failed = new Set<string>();
  for (const m of messages) {
    if (m.role === "user" && Array.isArray(m.content)) {
      for (const b of m.content) if (b.type === "tool_result" && b.is_error) failed.add(b.tool_use_id);
    }
  }
  const updates: SessionUpdate[] = [];
  for (const m of messages) {
    const blocks: ContentBlockParam[] = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    for (const b of blocks) {
      if (b.type === "text" && m.role === "user") {
        // Review findings handed to the model were the agent's own words, not the user's.
        const own = b.text.startsWith(reviewMarker);
        updates.push({ sessionUpdate: own ? "agent_message_chunk" : "user_message_chunk", content: { type: "text", text: own ? `\n\n${b.text}\n\n` : b.text } });
      } else if (b.type === "text") updates.push({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: b.text } });
      else if (b.type === "thinking") updates.push({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text: b.thinking } });
      else if (b.type === "tool_use") {
        updates.push({
          sessionUpdate: "tool_call",
          toolCallId: b.id,
          ...describeCall(tools, b.name, b.input),
          status: failed.has(b.id) ? "failed" : "completed",
          rawInput: b.input as Record<string, unknown>,
        });
      }
    }
  }
  return updates;
}
