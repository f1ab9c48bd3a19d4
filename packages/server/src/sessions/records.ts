/**
 * @module records — a new session's record, a session as the API shows it, and the checks a session's state and
 * a request's content must pass whichever node serves the request.
 */
import { type CreateSession, type InteractionRecord, type SessionOptions, type SessionRecord, type SessionView, AirlockError, conflict, limits } from "@airlock/protocol";
import { envView } from "../secrets/index.ts";
import { mcpServersView } from "./mcp-servers.ts";

/** What the manager sealed before the record is made (env values and MCP headers, see secrets/). */
export interface SealedParts {
  env?: SessionOptions["env"];
  mcpServers?: SessionOptions["mcpServers"];
}

export function newSessionRecord(id: string, tenant: string, body: CreateSession, provider: string, defaultIdleTimeoutSec: number, now: number, sealed: SealedParts): SessionRecord {
  return {
    id,
    tenant,
    agent: body.agent,
    provider,
    status: "provisioning",
    statusReason: null,
    options: {
      ...(body.command ? { command: body.command } : {}),
      ...(sealed.env ? { env: sealed.env } : {}),
      permissionMode: body.permissionMode ?? "ask",
      ...(body.model ? { model: body.model } : {}),
      ...(body.review !== undefined ? { review: body.review } : {}),
      idleTimeoutSec: body.idleTimeoutSec ?? defaultIdleTimeoutSec,
      ...(body.budgetUsd !== undefined ? { budgetUsd: body.budgetUsd } : {}),
      network: body.network ?? false,
      ...(sealed.mcpServers?.length ? { mcpServers: sealed.mcpServers } : {}),
      ...(body.setup ? { setup: body.setup } : {}),
    },
    metadata: body.metadata ?? {},
    lastSeq: 0,
    journalOffset: 0,
    sandbox: null,
    acpSessionId: null,
    usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
    idleDeadline: null,
    agentCrashes: 0,
    createdAt: now,
    updatedAt: now,
  };
}

export function sessionView(session: SessionRecord, pending: InteractionRecord[], queued: number, deadline: number | null): SessionView {
  return {
    id: session.id,
    agent: session.agent,
    provider: session.provider,
    status: session.status,
    statusReason: session.statusReason,
    final: session.status === "failed" || (session.status === "stopped" && !session.sandbox),
    hasWorkspace: session.sandbox !== null,
    permissionMode: session.options.permissionMode,
    model: session.options.model ?? null,
    review: session.options.review ?? false,
    env: envView(session.options.env),
    metadata: session.metadata,
    mcpServers: mcpServersView(session.options.mcpServers),
    lastSeq: session.lastSeq,
    pendingInteractions: pending.map((i) => ({ id: i.id, kind: i.kind, turnId: i.turnId, createdAt: new Date(i.createdAt).toISOString(), request: i.request })),
    queuedTurns: queued,
    usage: session.usage,
    budgetUsd: session.options.budgetUsd ?? null,
    owner: session.lease && session.status !== "stopped" && session.status !== "failed" ? { node: session.lease.node, leaseExpiresAt: new Date(session.lease.expiresAt).toISOString() } : null,
    idleTimeoutSec: session.options.idleTimeoutSec,
    idleDeadline: deadline ? new Date(deadline).toISOString() : null,
    createdAt: new Date(session.createdAt).toISOString(),
    updatedAt: new Date(session.updatedAt).toISOString(),
  };
}

export function isLive(session: SessionRecord): boolean {
  return session.status !== "stopped" && session.status !== "failed";
}

/** What makes a prompt impossible whoever drives the session (a live driver here knows better: it decides). */
export function checkPromptable(session: SessionRecord, driven: boolean): void {
  if (driven) return;
  if (session.status === "failed") throw conflict(`the session has failed: ${session.statusReason ?? "see its events"}`);
  if (session.status === "stopped" && !session.sandbox) throw conflict(`the session is stopped and its sandbox is gone`);
}

export function checkSeed(files: Record<string, string>): void {
  const entries = Object.entries(files);
  if (entries.length > limits.maxSeedFiles) throw new AirlockError("payload_too_large", `workspace.files has ${entries.length} files; the limit is ${limits.maxSeedFiles}`);
  let total = 0;
  for (const [, content] of entries) total += Buffer.byteLength(content);
  if (total > limits.maxSeedBytes) throw new AirlockError("payload_too_large", `workspace.files holds ${total} bytes; the limit is ${limits.maxSeedBytes}`);
}
