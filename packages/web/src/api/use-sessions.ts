/**
 * @module use-sessions — the sessions list, shared by the sidebar and the home page: one poll for both, paused
 * while the tab is hidden, and refreshed at once after anything that changes it.
 */
import { useEffect, useSyncExternalStore } from "react";
import type { SessionView } from "@airlock/client";
import { client } from "./client.ts";

interface State {
  sessions: SessionView[];
  loaded: boolean;
  error: string | null;
}

let state: State = { sessions: [], loaded: false, error: null };
const listeners = new Set<() => void>();
let users = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let inflight: Promise<void> | null = null;

const pollMs = 4000;

export function refreshSessions(): Promise<void> {
  inflight ??= client
    .sessions.list({ limit: 100 })
    .then(
      (page) => {
        state = { sessions: page.sessions, loaded: true, error: null };
      },
      (err: Error) => {
        state = { ...state, loaded: true, error: err.message };
      },
    )
    .finally(() => {
      inflight = null;
      for (const l of listeners) l();
      schedule();
    });
  return inflight;
}

/** Updates one session in the list at once (from its own page's fresher view). */
export function patchSession(session: SessionView): void {
  const at = state.sessions.findIndex((s) => s.id === session.id);
  if (at < 0 || state.sessions[at].updatedAt === session.updatedAt && state.sessions[at].status === session.status) return;
  const sessions = state.sessions.slice();
  sessions[at] = session;
  state = { ...state, sessions };
  for (const l of listeners) l();
}

/** Re-renders the lists (a title learned elsewhere changes what they show). */
export function touchSessions(): void {
  state = { ...state };
  for (const l of listeners) l();
}

function schedule() {
  clearTimeout(timer);
  if (users > 0) timer = setTimeout(() => (document.hidden ? schedule() : void refreshSessions()), pollMs);
}

const store = {
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  get: () => state,
};

export function useSessions(): State {
  useEffect(() => {
    users++;
    if (users === 1) void refreshSessions();
    const onVisible = () => !document.hidden && void refreshSessions();
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      users--;
      document.removeEventListener("visibilitychange", onVisible);
      if (users === 0) clearTimeout(timer);
    };
  }, []);
  return useSyncExternalStore(store.subscribe, store.get);
}
