/**
 * @module use-session — follows one session: the conversation view reduced from its live event stream, the
 * stream's state, the session resource, and the prompts sent from this tab that have not started yet.
 *
 * Events are buffered and reduced once per animation frame, so a burst of thousands of token chunks costs one
 * render per frame, and only the items they touched re-render. A hidden tab gets no frames: a timer flushes it.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { AirlockEvent, SessionView, SubscriptionStatus } from "@airlock/client";
import { type View, emptyView, reduceAll } from "../state/view.ts";
import { client } from "./client.ts";
import { patchSession } from "./use-sessions.ts";

/** A prompt sent from this tab, shown until its turn starts (it may wait behind a running turn). */
export interface OutgoingPrompt {
  localId: number;
  text: string;
  turnId?: string;
  state: "sending" | "queued";
}

export interface SessionState {
  view: View;
  /** Null until the first connection was made. */
  connection: SubscriptionStatus | null;
  session: SessionView | null;
  /** The session cannot be shown (not found, no access). */
  error: string | null;
  /** True once the backlog up to the session's `lastSeq` at load time has been reduced. */
  caughtUp: boolean;
  outbox: OutgoingPrompt[];
  send(text: string): Promise<void>;
  refresh(): void;
}

const refreshOn = new Set(["session.status", "turn.started", "turn.ended", "interaction.requested", "interaction.resolved", "usage"]);

export function useSession(id: string): SessionState {
  const [view, setView] = useState<View>(emptyView);
  const [connection, setConnection] = useState<SubscriptionStatus | null>(null);
  const [session, setSession] = useState<SessionView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [caughtUp, setCaughtUp] = useState(false);
  const [outbox, setOutbox] = useState<OutgoingPrompt[]>([]);
  const refreshRef = useRef<() => void>(() => {});

  useEffect(() => {
    setView(emptyView());
    setSession(null);
    setError(null);
    setCaughtUp(false);
    setConnection(null);
    setOutbox([]);
    let alive = true;
    let buffer: AirlockEvent[] = [];
    let scheduled = false;
    let frame = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let refreshTimer: ReturnType<typeof setTimeout> | undefined;
    let target = Infinity; // the lastSeq the session had when the page opened
    let seen = 0; // the last seq reduced

    const load = () =>
      client.sessions.get(id).then(
        (s) => {
          if (!alive) return;
          setSession(s);
          patchSession(s);
          if (target === Infinity) {
            target = s.lastSeq;
            // The stream may have brought the backlog before this answer came.
            if (seen >= target) setCaughtUp(true);
          }
        },
        (err: Error) => alive && setError(err.message),
      );
    // Many status events may come at once: read the resource at most every 300 ms.
    const refresh = () => {
      if (refreshTimer) return;
      refreshTimer = setTimeout(() => {
        refreshTimer = undefined;
        void load();
      }, 300);
    };
    refreshRef.current = () => void load();

    const flush = () => {
      scheduled = false;
      cancelAnimationFrame(frame);
      clearTimeout(timer);
      const events = buffer;
      buffer = [];
      if (!alive || events.length === 0) return;
      setView((v) => reduceAll(v, events));
      seen = Math.max(seen, events.at(-1)!.seq);
      if (seen >= target) setCaughtUp(true);
      if (events.some((e) => refreshOn.has(e.type))) refresh();
    };

    void load();
    const sub = client.sessions.subscribe(id, {
      onEvent(event) {
        buffer.push(event);
        if (scheduled) return;
        scheduled = true;
        if (document.hidden) timer = setTimeout(flush, 200);
        else {
          frame = requestAnimationFrame(flush);
          timer = setTimeout(flush, 250); // a tab hidden after the request gets no frame
        }
      },
      onStatus(status) {
        setConnection(status);
        if (status === "ended") refresh();
      },
      onError(err, fatal) {
        if (fatal) setError((err as Error).message);
      },
    });
    return () => {
      alive = false;
      sub.close();
      cancelAnimationFrame(frame);
      clearTimeout(timer);
      clearTimeout(refreshTimer);
    };
  }, [id]);

  // A prompt leaves the outbox once its turn is in the conversation.
  useEffect(() => {
    setOutbox((out) => {
      const left = out.filter((p) => !(p.turnId && view.index[`u${p.turnId}`] !== undefined));
      return left.length === out.length ? out : left;
    });
  }, [view.index]);

  const viewRef = useRef(view);
  viewRef.current = view;
  const localIds = useRef(0);
  const send = useCallback(
    async (text: string) => {
      const localId = ++localIds.current;
      setOutbox((out) => [...out, { localId, text, state: "sending" }]);
      try {
        const { turnId } = await client.sessions.prompt(id, text);
        // The turn may have started (over SSE) before this answer came back.
        const started = viewRef.current.index[`u${turnId}`] !== undefined;
        setOutbox((out) => (started ? out.filter((p) => p.localId !== localId) : out.map((p) => (p.localId === localId ? { ...p, turnId, state: "queued" as const } : p))));
      } catch (err) {
        setOutbox((out) => out.filter((p) => p.localId !== localId));
        throw err;
      }
    },
    [id],
  );

  const refresh = useCallback(() => refreshRef.current(), []);
  return { view, connection, session, error, caughtUp, outbox, send, refresh };
}
