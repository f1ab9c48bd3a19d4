/**
 * @module store-fixtures — records to feed a `StoreV1` in tests, with sensible defaults and overrides.
 */
import { afterEach, beforeEach } from "vitest";
import type { InteractionRecord, NewEvent, SessionRecord, StoreV1, TurnRecord } from "@airlock/protocol";
import { newId } from "@airlock/protocol";

/** A new, migrated store for each test of the enclosing `describe`, closed after it; read it through the getter. */
export function useStore(make: () => Promise<StoreV1>): () => StoreV1 {
  let store: StoreV1;
  beforeEach(async () => {
    store = await make();
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
  });
  return () => store;
}

export function sessionRecord(over: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return {
    id: newId("session"),
    tenant: "t1",
    agent: "scripted",
    provider: "local",
    status: "provisioning",
    statusReason: null,
    options: { permissionMode: "ask", idleTimeoutSec: 60, network: false },
    metadata: {},
    lastSeq: 0,
    journalOffset: 0,
    sandbox: null,
    acpSessionId: null,
    usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
    idleDeadline: null,
    agentCrashes: 0,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

export function turnRecord(sessionId: string, over: Partial<TurnRecord> = {}): TurnRecord {
  return {
    id: newId("turn"),
    sessionId,
    status: "queued",
    prompt: [{ type: "text", text: "hello" }],
    stopReason: null,
    error: null,
    createdAt: Date.now(),
    startedAt: null,
    endedAt: null,
    ...over,
  };
}

export function interactionRecord(sessionId: string, over: Partial<InteractionRecord> = {}): InteractionRecord {
  return {
    id: newId("interaction"),
    sessionId,
    turnId: null,
    kind: "permission",
    rpcId: 7,
    request: { kind: "permission", options: [{ optionId: "allow", name: "Allow", kind: "allow_once" }] },
    status: "pending",
    resolution: null,
    delivered: false,
    createdAt: Date.now(),
    resolvedAt: null,
    ...over,
  };
}

/** A streamed agent message chunk, the most common event. */
export const chunk = (text: string, turnId?: string): NewEvent => ({
  type: "update",
  ...(turnId ? { turnId } : {}),
  data: { sessionUpdate: "agent_message_chunk", content: { type: "text", text } },
});

/** Everything a store holds about one session, to check that a refused write changed nothing. */
export async function snapshot(store: StoreV1, sessionId: string) {
  const [session, events, turns, interactions] = await Promise.all([
    store.getSession(sessionId),
    store.readEvents(sessionId, 0, 100_000),
    store.listTurns(sessionId),
    store.listInteractions(sessionId),
  ]);
  return { session, events, turns, interactions };
}
