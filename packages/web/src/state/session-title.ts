/**
 * @module session-title — what to call a session in lists and headers: its `metadata.title` (set from the task
 * it was started with), else what the agent called it, else its first prompt as this browser saw it, else the
 * agent's name.
 */
import type { SessionView } from "@airlock/client";

const agentNames: Record<string, string> = { scripted: "Scripted agent", "claude-code": "Claude Code", opencode: "OpenCode", codex: "Codex", gemini: "Gemini CLI", custom: "Custom agent" };

export const agentName = (agent: string): string => agentNames[agent] ?? agent.charAt(0).toUpperCase() + agent.slice(1);

const storeKey = "airlock.titles";
let remembered: Record<string, string> | null = null;

function titles(): Record<string, string> {
  if (remembered) return remembered;
  try {
    remembered = JSON.parse(localStorage.getItem(storeKey) ?? "{}") as Record<string, string>;
  } catch {
    remembered = {};
  }
  return remembered;
}

/** Keeps a session's first prompt as its title in this browser (the API has no title to write to). */
export function rememberTitle(id: string, title: string): boolean {
  const all = titles();
  if (all[id] === title) return false;
  const entries = Object.entries({ ...all, [id]: title }).slice(-500);
  remembered = Object.fromEntries(entries);
  try {
    localStorage.setItem(storeKey, JSON.stringify(remembered));
  } catch {
    // storage full or blocked: titles fall back to the agent's name
  }
  return true;
}

export function sessionTitle(session: Pick<SessionView, "metadata" | "agent" | "id"> | null, fallback?: string): string {
  const title = session?.metadata?.title?.trim();
  if (title) return title;
  if (fallback) return fallback;
  const local = session ? (typeof localStorage === "undefined" ? undefined : titles()[session.id]) : undefined;
  if (local) return local;
  return session ? `${agentName(session.agent)} session` : "Session";
}
