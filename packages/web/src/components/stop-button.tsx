/**
 * Stops a session (DELETE: the agent is stopped and the sandbox destroyed; the conversation stays). Asks for a
 * second click rather than a modal dialog, and forgets the question after a few seconds.
 */
import { useEffect, useState } from "react";
import { client } from "../api/client.ts";
import { refreshSessions } from "../api/use-sessions.ts";
import { showToast } from "../state/toasts.ts";
import { StopIcon } from "./icons.tsx";

export function StopButton({ sessionId, compact = false }: { sessionId: string; compact?: boolean }) {
  const [armed, setArmed] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!armed) return;
    const t = setTimeout(() => setArmed(false), 4000);
    return () => clearTimeout(t);
  }, [armed]);
  return (
    <button
      type="button"
      className={`btn ${armed ? "danger" : "ghost danger-text"}${compact ? " small" : ""}`}
      disabled={busy}
      aria-label={armed ? "Confirm: stop this session and remove its sandbox" : "Stop session"}
      title="Stop the agent and remove its sandbox (the conversation stays)"
      onClick={async (e) => {
        e.stopPropagation();
        if (!armed) return setArmed(true);
        setBusy(true);
        try {
          await client.sessions.delete(sessionId);
          void refreshSessions();
        } catch (err) {
          showToast({ tone: "bad", title: "Could not stop the session", body: (err as Error).message });
        } finally {
          setBusy(false);
          setArmed(false);
        }
      }}
    >
      {busy ? <span className="spinner" aria-hidden /> : <StopIcon size={10} />}
      {armed ? "Stop session?" : "Stop"}
    </button>
  );
}
