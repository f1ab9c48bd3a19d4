/**
 * @module rows — records ⇄ table rows (snake_case columns, JSON as text), shared by every SQL store.
 */
import type { ApiKeyRecord, InteractionRecord, NodeRecord, SecretRecord, SessionRecord, TurnRecord } from "@airlock/protocol";

// Rows come back from the driver untyped; these functions are where they get their types.
type Row = Record<string, any>;

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
const parse = (text: string | null) => (text === null ? null : JSON.parse(text));

export function sessionParams(s: SessionRecord, lastSeq: number) {
  return {
    id: s.id,
    tenant: s.tenant,
    agent: s.agent,
    provider: s.provider,
    status: s.status,
    statusReason: s.statusReason,
    options: JSON.stringify(s.options),
    metadata: JSON.stringify(s.metadata),
    lastSeq,
    journalOffset: s.journalOffset,
    sandbox: json(s.sandbox),
    acpSessionId: s.acpSessionId,
    usage: JSON.stringify(s.usage),
    idleDeadline: s.idleDeadline,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    ownerNode: s.lease?.node ?? null,
    leaseEpoch: s.lease?.epoch ?? 0,
    leaseExpires: s.lease?.expiresAt ?? 0,
  };
}

/** A lease as the sessions table holds it (owner_node, lease_epoch, lease_expires); null without an owner. */
export function toLease(r: Row): SessionRecord["lease"] {
  return r.owner_node ? { node: r.owner_node, epoch: r.lease_epoch, expiresAt: r.lease_expires } : null;
}

export function toNode(r: Row): NodeRecord {
  return { id: r.id, url: r.url, startedAt: r.started_at, heartbeatAt: r.heartbeat_at };
}

export function toSession(r: Row): SessionRecord {
  return {
    id: r.id,
    tenant: r.tenant,
    agent: r.agent,
    provider: r.provider,
    status: r.status,
    statusReason: r.status_reason,
    options: JSON.parse(r.options),
    metadata: JSON.parse(r.metadata),
    lastSeq: r.last_seq,
    journalOffset: r.journal_offset,
    sandbox: parse(r.sandbox),
    acpSessionId: r.acp_session_id,
    usage: JSON.parse(r.usage),
    idleDeadline: r.idle_deadline,
    agentCrashes: r.agent_crashes ?? 0,
    // Absent rather than null when no node drives it: records made before leases compare equal.
    ...(r.owner_node ? { lease: toLease(r) } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function turnParams(sessionId: string, t: TurnRecord) {
  return {
    id: t.id,
    sessionId,
    status: t.status,
    prompt: JSON.stringify(t.prompt),
    stopReason: t.stopReason,
    error: t.error,
    createdAt: t.createdAt,
    startedAt: t.startedAt,
    endedAt: t.endedAt,
    idempotencyKey: t.idempotency?.key ?? null,
    idempotencyFingerprint: t.idempotency?.fingerprint ?? null,
  };
}

/** The record's `idempotency`, present only when the row has a key (so records without one compare equal). */
const idempotencyOf = (r: Row) =>
  r.idempotency_key == null ? {} : { idempotency: { key: r.idempotency_key as string, fingerprint: r.idempotency_fingerprint as string } };

export function toTurn(r: Row): TurnRecord {
  return {
    id: r.id,
    sessionId: r.session_id,
    status: r.status,
    prompt: JSON.parse(r.prompt),
    stopReason: r.stop_reason,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    ...idempotencyOf(r),
  };
}

export function interactionParams(sessionId: string, i: InteractionRecord) {
  return {
    id: i.id,
    sessionId,
    turnId: i.turnId,
    kind: i.kind,
    rpcId: JSON.stringify(i.rpcId),
    request: JSON.stringify(i.request),
    status: i.status,
    resolution: json(i.resolution),
    delivered: i.delivered ? 1 : 0,
    createdAt: i.createdAt,
    resolvedAt: i.resolvedAt,
    idempotencyKey: i.idempotency?.key ?? null,
    idempotencyFingerprint: i.idempotency?.fingerprint ?? null,
  };
}

export function toInteraction(r: Row): InteractionRecord {
  return {
    id: r.id,
    sessionId: r.session_id,
    turnId: r.turn_id,
    kind: r.kind,
    rpcId: JSON.parse(r.rpc_id),
    request: JSON.parse(r.request),
    status: r.status,
    resolution: parse(r.resolution),
    delivered: Boolean(r.delivered),
    createdAt: r.created_at,
    resolvedAt: r.resolved_at,
    ...idempotencyOf(r),
  };
}

export function toSecret(r: Row): SecretRecord {
  return { tenant: r.tenant, name: r.name, value: r.value ?? "", createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) };
}

export function toApiKey(r: Row): ApiKeyRecord {
  return { id: r.id, tenant: r.tenant, name: r.name, createdAt: r.created_at };
}
