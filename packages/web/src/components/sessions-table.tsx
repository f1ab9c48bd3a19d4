/** Every session with its status, agent, last activity and usage, and a Stop button for the live ones. */
import { linkProps } from "../api/router.ts";
import { useSessions } from "../api/use-sessions.ts";
import { timeAgo, tokens, usd } from "../state/format.ts";
import { agentName, sessionTitle } from "../state/session-title.ts";
import { StatusBadge } from "./status-badge.tsx";
import { StopButton } from "./stop-button.tsx";

export function SessionsTable() {
  const { sessions, loaded } = useSessions();
  if (!loaded || sessions.length === 0) return null;
  return (
    <section className="sessions-section" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <div className="sessions-table" role="table" aria-label="Sessions">
        <div className="st-row st-head" role="row">
          <span role="columnheader">Session</span>
          <span role="columnheader">Status</span>
          <span role="columnheader" className="st-agent">Agent</span>
          <span role="columnheader" className="st-time">Last activity</span>
          <span role="columnheader" className="st-usage">Usage</span>
          <span role="columnheader" className="st-actions">
            <span className="sr-only">Actions</span>
          </span>
        </div>
        {sessions.map((s) => {
          const live = !s.final && s.status !== "stopped" && s.status !== "stopping";
          const used = s.usage.inputTokens + s.usage.outputTokens;
          return (
            <div key={s.id} className="st-row" role="row">
              <span role="cell" className="st-title">
                <a {...linkProps(`/sessions/${s.id}`)}>{sessionTitle(s)}</a>
                <code className="st-id">{s.id}</code>
              </span>
              <span role="cell">
                <StatusBadge status={s.status} compact />
              </span>
              <span role="cell" className="st-agent">
                {agentName(s.agent)}
              </span>
              <span role="cell" className="st-time">
                <time dateTime={s.updatedAt} title={new Date(s.updatedAt).toLocaleString()}>
                  {timeAgo(s.updatedAt)}
                </time>
              </span>
              <span role="cell" className="st-usage">
                {used > 0 || s.usage.costUsd > 0 ? `${tokens(used)} tok · ${usd(s.usage.costUsd)}` : "—"}
              </span>
              <span role="cell" className="st-actions">
                {live && <StopButton sessionId={s.id} compact />}
              </span>
            </div>
          );
        })}
      </div>
    </section>
  );
}
