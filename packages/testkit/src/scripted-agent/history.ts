/**
 * @module history — the scripted agent's conversation memory, saved under $HOME so `session/load` works in a
 * new process (after an idle stop).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Exchange {
  prompt: string;
  reply: string;
}

const memory = new Map<string, Exchange[]>();

function file(sessionId: string): string | null {
  const home = process.env.HOME;
  if (!home || !/^[A-Za-z0-9_-]+$/.test(sessionId)) return null;
  return join(home, ".airlock-scripted", "sessions", `${sessionId}.json`);
}

export function load(sessionId: string): Exchange[] {
  const cached = memory.get(sessionId);
  if (cached) return cached;
  const path = file(sessionId);
  let history: Exchange[] = [];
  if (path) {
    try {
      history = JSON.parse(readFileSync(path, "utf8"));
    } catch {}
  }
  memory.set(sessionId, history);
  return history;
}

export function append(sessionId: string, exchange: Exchange): void {
  const history = load(sessionId);
  history.push(exchange);
  const path = file(sessionId);
  if (!path) return;
  try {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, JSON.stringify(history));
  } catch {
    // No writable home: memory only.
  }
}
