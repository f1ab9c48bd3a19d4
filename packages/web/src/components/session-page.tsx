/** One session: header with status and usage, the live conversation, the prompt box, the workspace panel. */
import { useEffect, useMemo, useState } from "react";
import { client } from "../api/client.ts";
import { navigate } from "../api/router.ts";
import { useSession } from "../api/use-session.ts";
import { Conversation } from "./conversation.tsx";
import { PromptBox } from "./prompt-box.tsx";
import { StatusBadge } from "./status-badge.tsx";
import { WorkspacePanel } from "./workspace-panel.tsx";

export function SessionPage({ id }: { id: string }) {
  const { view, connection, session, error } = useSession(id);
  const [showFiles, setShowFiles] = useState(() => window.innerWidth > 1100);
  const status = view.status ?? session?.status ?? null;
  const ended = status === "failed" || Boolean(session?.final);
  const running = Boolean(view.runningTurnId) || status === "running" || status === "awaiting_input";
  const fileVersion = useMemo(() => view.items.filter((i) => i.kind === "file" || (i.kind === "tool" && i.status === "completed")).length, [view.items]);
  const usage = session?.usage ?? view.usage;

  useEffect(() => {
    const pending = view.pending.length;
    document.title = pending ? `(${pending}) Needs you — Airlock` : `${session?.agent ?? "Session"} — Airlock`;
  }, [view.pending.length, session?.agent]);

  if (error && !session) return <div className="page-error">Could not open this session: {error}</div>;
  return (
    <div className={`session-page${showFiles ? " with-panel" : ""}`}>
      <div className="session-main">
        <header className="session-head">
          <button className="back-mobile icon-btn" aria-label="All sessions" onClick={() => navigate("/")}>
            ←
          </button>
          <div className="session-title">
            <h1>{session?.agent ?? "…"}</h1>
            <code className="muted small" title="Session id">{id}</code>
          </div>
          <StatusBadge status={status} step={view.step} />
          <span className={`conn ${connection}`} title={`Event stream: ${connection}`}>
            <span className="conn-dot" aria-hidden /> {connection === "live" ? "Live" : connection === "reconnecting" ? "Reconnecting…" : connection === "ended" ? "Ended" : "Connecting…"}
          </span>
          <span className="spacer" />
          {usage.costUsd > 0 || usage.inputTokens > 0 ? (
            <span className="muted small" title="Tokens in / out">
              {usage.inputTokens.toLocaleString()} in · {usage.outputTokens.toLocaleString()} out · ${usage.costUsd.toFixed(4)}
            </span>
          ) : null}
          <button className="btn" aria-pressed={showFiles} onClick={() => setShowFiles(!showFiles)}>
            Files
          </button>
          {!ended && (
            <button
              className="btn danger"
              onClick={async () => {
                if (confirm("Stop this session and delete its sandbox? The conversation stays.")) await client.deleteSession(id);
              }}
            >
              Stop
            </button>
          )}
        </header>
        {status === "failed" && view.statusReason && <div className="banner bad">This session failed: {view.statusReason}</div>}
        <Conversation view={view} sessionId={id} />
        <PromptBox
          disabled={ended || status === "stopping"}
          running={running}
          queued={session?.queuedTurns ?? 0}
          onSend={async (text) => {
            await client.prompt(id, text);
          }}
          onCancel={async () => {
            await client.cancel(id).catch(() => {});
          }}
        />
      </div>
      {showFiles && <WorkspacePanel sessionId={id} version={fileVersion} onClose={() => setShowFiles(false)} />}
    </div>
  );
}
