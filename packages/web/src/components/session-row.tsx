/** One session in the sidebar: title, status, agent, when it last changed, and what it cost. */
import { memo } from "react";
import type { SessionView } from "@airlock/client";
import { linkProps } from "../api/router.ts";
import { timeAgo, usd } from "../state/format.ts";
import { agentName } from "../state/session-title.ts";
import { statusLabels } from "./status-badge.tsx";

export const SessionRow = memo(function SessionRow({ session, title, current, onNavigate }: { session: SessionView; title: string; current: boolean; onNavigate(): void }) {
  const s = session;
  return (
    <li>
      <a className={`session-row status-${s.status}`} aria-current={current ? "page" : undefined} {...linkProps(`/sessions/${s.id}`, onNavigate)}>
        <span className={`row-dot ${s.status}`} aria-hidden />
        <span className="row-main">
          <span className="row-title">{title}</span>
          <span className="row-meta">
            <span className={`row-status ${s.status}`}>{statusLabels[s.status]}</span>
            <span aria-hidden>·</span>
            <span>{agentName(s.agent)}</span>
            <span aria-hidden>·</span>
            <span>{timeAgo(s.updatedAt)}</span>
            {s.usage.costUsd > 0 && (
              <>
                <span aria-hidden>·</span>
                <span>{usd(s.usage.costUsd)}</span>
              </>
            )}
          </span>
        </span>
      </a>
    </li>
  );
});
