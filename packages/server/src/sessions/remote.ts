/**
 * @module remote — commands for a session that another node drives. Each is recorded in the store first (a
 * queued turn, a resolved interaction — under the same once-only rule as on the owner —, a command row), then the
 * owner is rung; an owner that dies before acting leaves them to the next owner, which finds them in the store.
 */
import type { ContentBlock } from "@agentclientprotocol/sdk";
import {
  type AnswerInteraction,
  type IdempotencyRecord,
  type SessionCommandKind,
  type SessionRecord,
  type StoreV1,
  conflict,
  newId,
  notFound,
} from "@airlock/protocol";
import { resolutionOf } from "./answers.ts";

export interface RemoteDeps {
  store: StoreV1;
  /** Tells the owner that commands wait (the doorbell). */
  ring(sessionId: string): Promise<void>;
}

async function command(deps: RemoteDeps, sessionId: string, kind: SessionCommandKind): Promise<void> {
  await deps.store.addCommand(sessionId, kind);
  await deps.ring(sessionId).catch(() => {}); // a lost ring costs the owner one lease tick, never the command
}

export async function remotePrompt(deps: RemoteDeps, session: SessionRecord, content: ContentBlock[], idempotency?: IdempotencyRecord) {
  if (session.status === "failed") throw conflict(`the session has failed: ${session.statusReason ?? "see its events"}`);
  if (session.status === "stopping") throw conflict("the session is stopping");
  if (session.status === "stopped" && !session.sandbox) throw conflict("the session is stopped and its sandbox is gone; create a new session");
  const turnId = newId("turn");
  const now = Date.now();
  await deps.store.commit(session.id, {
    events: [],
    turns: { insert: [{ id: turnId, sessionId: session.id, status: "queued", prompt: content, stopReason: null, error: null, createdAt: now, startedAt: null, endedAt: null, ...(idempotency ? { idempotency } : {}) }] },
    session: { idleDeadline: null },
  });
  await command(deps, session.id, "wake");
  return { turnId };
}

/** Returns the stored rows (to publish here) and the resolution. */
export async function remoteAnswer(deps: RemoteDeps, session: SessionRecord, interactionId: string, body: AnswerInteraction, by: string, idempotency?: IdempotencyRecord) {
  const interaction = await deps.store.getInteraction(session.id, interactionId);
  if (!interaction) throw notFound(`no interaction ${interactionId} in session ${session.id}`);
  if (interaction.status !== "pending") throw conflict("this interaction was already answered", { resolution: interaction.resolution });
  const resolution = resolutionOf(interaction, body, by);
  const rows = await deps.store.commit(session.id, {
    events: [{ type: "interaction.resolved", data: resolution as any, ...(interaction.turnId ? { turnId: interaction.turnId } : {}) }],
    interactions: { update: [{ id: interactionId, patch: { status: "resolved", resolution, resolvedAt: Date.now(), ...(idempotency ? { idempotency } : {}) } }] },
    requirePendingInteraction: interactionId,
  });
  await command(deps, session.id, "wake");
  return { rows, resolution };
}

export async function remoteCancel(deps: RemoteDeps, session: SessionRecord) {
  if ((await deps.store.listTurns(session.id, "running")).length === 0) throw conflict("no turn is running");
  await command(deps, session.id, "cancel");
  return { cancelled: true };
}

export async function remoteKeepalive(deps: RemoteDeps, session: SessionRecord) {
  await command(deps, session.id, "keepalive");
  const idle = session.status === "ready";
  return { idleDeadline: idle ? new Date(Date.now() + session.options.idleTimeoutSec * 1000).toISOString() : null };
}

/** Asks the owner to stop the session and remove its sandbox, and waits (a while) until it has. */
export async function remoteDelete(deps: RemoteDeps, session: SessionRecord, waitMs = 30_000): Promise<void> {
  await command(deps, session.id, "delete");
  const until = Date.now() + waitMs;
  while (Date.now() < until) {
    const s = await deps.store.getSession(session.id);
    if (!s || (s.status === "stopped" && !s.sandbox) || s.status === "failed") return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
