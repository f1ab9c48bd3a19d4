/**
 * @module use-session — follows one session: its view reduced from the live event stream (batched per frame),
 * the connection state, and its resource (refreshed as its status changes).
 */
import { useEffect, useRef, useState } from "react";
import type { AirlockEvent, SessionView, SubscriptionStatus as ConnectionState } from "@airlock/protocol";
import { type View, emptyView, reduceAll } from "../state/view.ts";
import { client } from "./client.ts";

export function useSession(id: string) {
  const [view, setView] = useState<View>(emptyView);
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [session, setSession] = useState<SessionView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pending = useRef<AirlockEvent[]>([]);

  useEffect(() => {
    setView(emptyView());
    setSession(null);
    setError(null);
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      const events = pending.current;
      pending.current = [];
      setView((v) => reduceAll(v, events));
      if (events.some((e) => e.type === "session.status" || e.type === "interaction.resolved" || e.type === "usage")) refresh();
    };
    const refresh = () => client.getSession(id).then(setSession, (err) => setError(err.message));
    refresh();
    const stop = client.subscribe(id, {
      onEvent(event) {
        pending.current.push(event);
        if (scheduled) return;
        scheduled = true;
        // One render per frame however fast events come; hidden tabs get no frames, so use a timer there.
        if (document.hidden) setTimeout(flush, 100);
        else requestAnimationFrame(flush);
      },
      onStatus: setConnection,
    });
    return () => {
      stop.close();
      pending.current = [];
    };
  }, [id]);

  return { view, connection, session, error, setSession };
}
