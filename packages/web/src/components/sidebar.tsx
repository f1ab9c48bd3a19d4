/**
 * The sessions sidebar: new session, then every session newest first with its status, agent, last activity
 * and cost; sessions that need a decision stand out. On a phone it is a drawer over the page.
 */
import { useSessions } from "../api/use-sessions.ts";
import { linkProps } from "../api/router.ts";
import { sessionTitle } from "../state/session-title.ts";
import { LogoIcon, PlusIcon, XIcon } from "./icons.tsx";
import { SessionRow } from "./session-row.tsx";
import { ThemeToggle } from "./theme-toggle.tsx";

interface Props {
  current?: string;
  open: boolean;
  onClose(): void;
  onApiKey(): void;
}

export function Sidebar({ current, open, onClose, onApiKey }: Props) {
  const { sessions, loaded, error } = useSessions();
  const waiting = sessions.filter((s) => s.status === "awaiting_input").length;
  return (
    <>
      <div className={`scrim${open ? " open" : ""}`} onClick={onClose} aria-hidden />
      <nav className={`sidebar${open ? " open" : ""}`} aria-label="Sessions">
        <div className="sidebar-top">
          <a className="brand" {...linkProps("/", onClose)}>
            <LogoIcon size={22} className="brand-logo" />
            <span>Airlock</span>
          </a>
          <button type="button" className="btn ghost icon-only close-drawer" aria-label="Close the menu" onClick={onClose}>
            <XIcon size={16} />
          </button>
        </div>
        <a className="btn primary new-session-btn" {...linkProps("/", onClose)}>
          <PlusIcon size={15} strokeWidth={2.2} /> New session
        </a>
        <div className="sidebar-section">
          <span>Sessions</span>
          {waiting > 0 && <span className="needs-count">{waiting} need you</span>}
        </div>
        <ul className="session-list">
          {sessions.map((s) => (
            <SessionRow key={s.id} session={s} title={sessionTitle(s)} current={s.id === current} onNavigate={onClose} />
          ))}
          {loaded && sessions.length === 0 && !error && <li className="list-empty">No sessions yet. Start one to see it here.</li>}
          {error && <li className="list-empty error">Cannot list sessions: {error}</li>}
          {!loaded && <li className="list-empty">Loading…</li>}
        </ul>
        <div className="sidebar-foot">
          <ThemeToggle />
          <a className="btn ghost small" {...linkProps("/secrets", onClose)}>
            Secrets
          </a>
          <button type="button" className="btn ghost small" onClick={onApiKey}>
            API key
          </button>
        </div>
      </nav>
    </>
  );
}
