/**
 * @module acp-messages — the messages the control plane sends an agent, and the events and batches a driver
 * commits when its agent's run ends. Pure builders, so the driver reads as the order of things it does.
 */
import type { CommitBatch, JsonRpcMessage, NewEvent, SessionStatus } from "@airlock/protocol";
import { rpcIds } from "./mapper.ts";

export const acpProtocolVersion = 1;
// Notices (e.g. "retrying the LLM call") are shown in the conversation like Airlock's own.
const clientCapabilities = { fs: { readTextFile: true, writeTextFile: true }, terminal: true, elicitation: { form: {} }, session: { notices: {} } };

export function request(id: string, method: string, params: unknown): JsonRpcMessage {
  return { jsonrpc: "2.0", id, method, params };
}

export function notification(method: string, params: unknown): JsonRpcMessage {
  return { jsonrpc: "2.0", method, params };
}

/** ACP `initialize`; an agent may need some client capabilities withheld (agents/*.ts says why). */
export function initialize(withheld: Record<string, unknown> | undefined): JsonRpcMessage {
  return request(rpcIds.initialize, "initialize", {
    protocolVersion: acpProtocolVersion,
    clientCapabilities: { ...clientCapabilities, ...withheld },
    clientInfo: { name: "airlock", title: "Airlock", version: "0.1.0" },
  });
}

export function statusEvent(status: SessionStatus, reason?: string, step?: string): NewEvent {
  return { type: "session.status", data: { status, ...(reason ? { reason } : {}), ...(step ? { step } : {}) } };
}

/**
 * The agent is gone (for good, or until the next prompt): the error, the running turn ended with it, pending
 * interactions resolved as cancelled (never left waiting for an agent that cannot hear the answer), queued turns
 * cancelled, and the new status.
 */
export function endOfRun(
  ended: { running: string | null; pendingInteractions?: string[]; queuedTurns?: string[] },
  status: "failed" | "stopped",
  reason: string,
  code?: string,
): CommitBatch {
  const { running, pendingInteractions = [], queuedTurns = [] } = ended;
  const endedAt = Date.now();
  const events: NewEvent[] = [{ type: "error", data: code ? { message: reason, code } : { message: reason } }];
  const resolutions = pendingInteractions.map((interactionId) => ({ interactionId, outcome: "cancelled" as const }));
  for (const data of resolutions) events.push({ type: "interaction.resolved", data, ...(running ? { turnId: running } : {}) });
  if (running) events.push({ type: "turn.ended", turnId: running, data: { turnId: running, stopReason: "error", error: reason } });
  events.push(statusEvent(status, reason));
  const update = [
    ...(running ? [{ id: running, patch: { status: "ended" as const, stopReason: "error" as const, error: reason, endedAt } }] : []),
    ...queuedTurns.map((id) => ({ id, patch: { status: "ended" as const, stopReason: "cancelled" as const, endedAt } })),
  ];
  return {
    events,
    session: { status, statusReason: reason, idleDeadline: null },
    ...(update.length ? { turns: { update } } : {}),
    ...(resolutions.length
      ? { interactions: { update: resolutions.map((r) => ({ id: r.interactionId, patch: { status: "resolved" as const, resolution: r, resolvedAt: endedAt, delivered: true } })) } }
      : {}),
  };
}
