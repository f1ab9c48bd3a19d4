/**
 * @module history — what was said in each session, so `recall` works across turns and `session/load` can replay
 * a conversation in a new process (Airlock stops idle agents and resumes them later).
 *
 * Saved as JSON under `$HOME/.airlock-scripted/sessions/<id>.json`; kept in memory only when HOME is unset or
 * not writable (the session then still works, it just does not survive the process).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface Exchange {
  prompt: string;
  reply: string;
}

/** A reply longer than this is cut in the saved history (a `slow 600` turn need not be replayed whole). */
const maxSavedReply = 16 * 1024;

const memory = new Map<string, Exchange[]>();

function fileOf(sessionId: string): string | null {
  const home = process.env.HOME;
  // The id comes from the client on session/load: never let it name a path outside the folder.
  if (!home || !/^[A-Za-z0-9_.-]{1,128}$/.test(sessionId) || sessionId.startsWith(".")) return null;
  return join(home, ".airlock-scripted", "sessions", `${sessionId}.json`);
}

/** The session's exchanges so far, oldest first (empty for an unknown session). */
export function load(sessionId: string): Exchange[] {
  const cached = memory.get(sessionId);
  if (cached) return cached;
  let history: Exchange[] = [];
  const file = fileOf(sessionId);
  if (file) {
    try {
      const saved: unknown = JSON.parse(readFileSync(file, "utf8"));
      if (Array.isArray(saved)) history = saved.filter((e) => typeof e?.prompt === "string" && typeof e?.reply === "string");
    } catch {
      // Missing or unreadable: a session with no past.
    }
  }
  memory.set(sessionId, history);
  return history;
}

export function append(sessionId: string, exchange: Exchange): void {
  const history = load(sessionId);
  const reply = exchange.reply.length > maxSavedReply ? `${exchange.reply.slice(0, maxSavedReply)}…` : exchange.reply;
  history.push({ prompt: exchange.prompt, reply });
  const file = fileOf(sessionId);
  if (!file) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    // Write then rename: a crash mid-write must not leave a half file that loses the whole history.
    writeFileSync(`${file}.tmp`, JSON.stringify(history));
    renameSync(`${file}.tmp`, file);
  } catch {
    // HOME not writable (a read-only sandbox): memory only.
  }
}
