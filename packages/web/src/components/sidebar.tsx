/** The sessions list: newest first, with status, agent, last activity and cost. */
import { useEffect, useState } from "react";
import type { SessionView } from "@airlock/protocol";
import { client } from "../api/client.ts";
import { navigate } from "../api/router.ts";
import { StatusBadge } from "./status-badge.tsx";

export function Sidebar({ current, onUnauthorized }: { current?: string; onUnauthorized(): void }) {
  const [sessions, setSessions] = useState<SessionView[]>([]);
  useEffect(() => {
    let alive = true;
    const load = () =>
      client.listSessions({ limit: 50 }).then(
        (page) => alive && setSessions(page.sessions),
        (err) => err.status === 401 && onUnauthorized(),
      );
    void load();
    const timer = setInterval(load, 3000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [current]);
  return (
    <nav className="sidebar" aria-label="Sessions">
      <div className="brand">
        <span className="logo" aria-hidden>⌂</span> Airlock
      </div>
      <button className="btn primary wide" onClick={() => navigate("/")}>
        + New session
      </button>
      <ul className="session-list">
        {sessions.map((s) => (
          <li key={s.id}>
            <a
              href={`/sessions/${s.id}`}
              aria-current={s.id === current ? "page" : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate(`/sessions/${s.id}`);
              }}
            >
              <div className="row">
                <span className="agent">{s.agent}</span>
                <StatusBadge status={s.status} />
              </div>
              <div className="row muted small">
                <span>{ago(s.updatedAt)}</span>
                {s.usage.costUsd > 0 && <span>${s.usage.costUsd.toFixed(3)}</span>}
              </div>
            </a>
          </li>
        ))}
        {sessions.length === 0 && <li className="muted small pad">No sessions yet.</li>}
      </ul>
    </nav>
  );
}

function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}
