/** A session's status as a coloured badge; during provisioning it names the current step. */
import type { SessionStatus } from "@airlock/client";

export const statusLabels: Record<SessionStatus, string> = {
  provisioning: "Starting",
  ready: "Idle",
  running: "Working",
  awaiting_input: "Needs you",
  paused: "Paused",
  stopping: "Stopping",
  stopped: "Stopped",
  failed: "Failed",
};

export function StatusBadge({ status, step, reason, compact = false }: { status: SessionStatus | null; step?: string; reason?: string | null; compact?: boolean }) {
  if (!status) return <span className="badge unknown">…</span>;
  const busy = status === "running" || status === "provisioning" || status === "stopping";
  return (
    <span className={`badge ${status}`} title={[step, reason].filter(Boolean).join(" — ") || undefined}>
      {busy ? <span className="spinner" aria-hidden /> : <span className="badge-dot" aria-hidden />}
      {/* While provisioning, the current step says more than "Starting". */}
      {!compact && status === "provisioning" && step ? <span className="badge-step">{step.charAt(0).toUpperCase() + step.slice(1)}</span> : statusLabels[status]}
    </span>
  );
}
