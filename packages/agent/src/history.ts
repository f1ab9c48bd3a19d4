/**
 * @module history — a session's conversation, kept on disk in the sandbox's private home so that a new agent
 * process can continue it (`session/load` after Airlock stopped an idle agent), and replayed to the client as
 * ACP updates so it can show the conversation again.
 *
 * Saved as JSON under `<stateDir>/sessions/<id>.json`, written to a temporary file and renamed (a crash
 * mid-write keeps the previous version); kept in memory only when there is no state folder.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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

function fileOf(stateDir: string | null, sessionId: string): string | null {
  // The id comes from the client on session/load: it must not name a path outside the folder.
  if (!stateDir || !/^[A-Za-z0-9_-]{1,128}$/.test(sessionId)) return null;
  return join(stateDir, "sessions", `${sessionId}.json`);
}

export function loadSession(stateDir: string | null, sessionId: string): SavedSession | null {
  const file = fileOf(stateDir, sessionId);
  if (!file) return null;
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as SavedSession;
    return saved?.version === 1 && Array.isArray(saved.messages) ? saved : null;
  } catch {
    return null;
  }
}

export function saveSession(stateDir: string | null, sessionId: string, session: SavedSession): void {
  const file = fileOf(stateDir, sessionId);
  if (!file) return;
  try {
    mkdirSync(join(stateDir!, "sessions"), { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.tmp`, JSON.stringify(session), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  } catch (err) {
    process.stderr.write(`airlock-agent: could not save the session to ${file}: ${(err as Error).message}\n`);
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
