import type { SessionStatus } from "@airlock/protocol";

const labels: Record<SessionStatus, string> = {
  provisioning: "Starting",
  ready: "Idle",
  running: "Working",
  awaiting_input: "Needs you",
  paused: "Paused",
  stopping: "Stopping",
  stopped: "Stopped",
  failed: "Failed",
};

export function StatusBadge({ status, step }: { status: SessionStatus | null; step?: string }) {
  if (!status) return <span className="badge">…</span>;
  return (
    <span className={`badge ${status}`} title={step}>
      {(status === "running" || status === "provisioning" || status === "stopping") && <span className="spinner" aria-hidden />}
      {labels[status]}
      {status === "provisioning" && step ? <span className="badge-step"> · {step}</span> : null}
    </span>
  );
}
