/** The session's title bar: what it is, its status and connection, usage, the workspace toggle and Stop. */
import type { SessionStatus, SessionView, SubscriptionStatus } from "@airlock/client";
import { agentName } from "../state/session-title.ts";
import { ConnectionIndicator } from "./connection-indicator.tsx";
import { MenuIcon, PanelIcon } from "./icons.tsx";
import { StatusBadge } from "./status-badge.tsx";
import { StopButton } from "./stop-button.tsx";
import { UsageMeter } from "./usage-meter.tsx";

interface Props {
  title: string;
  session: SessionView | null;
  status: SessionStatus | null;
  step?: string;
  connection: SubscriptionStatus | null;
  usage: SessionView["usage"];
  panelOpen: boolean;
  canStop: boolean;
  onTogglePanel(): void;
  onOpenMenu(): void;
}

const modes: Record<string, string> = { ask: "Asks first", acceptEdits: "Accepts edits", auto: "Never asks" };

export function SessionHeader({ title, session, status, step, connection, usage, panelOpen, canStop, onTogglePanel, onOpenMenu }: Props) {
  return (
    <header className="session-header">
      <button type="button" className="btn ghost icon-only menu-button" aria-label="Open the sessions menu" onClick={onOpenMenu}>
        <MenuIcon size={18} />
      </button>
      <div className="session-heading">
        <h1 title={title}>{title}</h1>
        <div className="session-meta">
          {session ? (
            <>
              <span>{agentName(session.agent)}</span>
              <span aria-hidden>·</span>
              <span>{session.provider}</span>
              <span aria-hidden className="hide-narrow">·</span>
              <span className="hide-narrow">{modes[session.permissionMode] ?? session.permissionMode}</span>
              {session.model && (
                <>
                  <span aria-hidden className="hide-narrow">·</span>
                  <span className="hide-narrow">{session.model}</span>
                </>
              )}
              {session.mcpServers?.length > 0 && (
                <>
                  <span aria-hidden className="hide-narrow">·</span>
                  <span className="hide-narrow" title={session.mcpServers.map((m) => `${m.name}: ${m.type === "stdio" ? m.command : m.url}`).join("\n")}>
                    MCP: {session.mcpServers.map((m) => m.name).join(", ")}
                  </span>
                </>
              )}
            </>
          ) : (
            <span>Loading…</span>
          )}
        </div>
      </div>
      <div className="session-status">
        <StatusBadge status={status} step={step} reason={session?.statusReason} />
        <ConnectionIndicator status={connection} />
      </div>
      <div className="session-tools">
        <UsageMeter usage={usage} budgetUsd={session?.budgetUsd ?? null} />
        <button type="button" className={`btn ghost${panelOpen ? " active" : ""}`} aria-pressed={panelOpen} onClick={onTogglePanel} title="Workspace files and changes">
          <PanelIcon size={16} />
          <span className="hide-narrow">Workspace</span>
        </button>
        {canStop && session && <StopButton sessionId={session.id} />}
      </div>
    </header>
  );
}
