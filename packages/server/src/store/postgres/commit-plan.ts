/**
 * @module postgres/commit-plan — what a group of commits writes, decided from the locked session heads alone.
 *
 * Pure: given the batches (in the order they were asked for), the locked heads of their sessions and the
 * status of the interactions they require pending, it decides which batches are refused (and why), gives the
 * others their seqs, and lists the statements that store them — so the I/O shell (commit.ts) sends one
 * pipelined round of writes, and this logic is tested without a database. Batches of one session in one group
 * see each other's effects in order, as consecutive commits do: the second of two answers to one interaction is
 * refused, a journal offset must pass the one accepted just before it.
 */
import { type CommitBatch, type EventRow, type InteractionPatch, type NewEvent, AirlockError, conflict, fenced, notFound } from "@airlock/protocol";
import { interactionParams, turnParams } from "../rows.ts";
import { type QueryName, jsonbText } from "./sql.ts";

export interface Head {
  lastSeq: number;
  journalOffset: number;
  /** The session's lease epoch (fencing token); 0 when it never had an owner. */
  epoch?: number;
}

export interface PlannedItem {
  sessionId: string;
  batch: CommitBatch;
}

export type Outcome = { rows: EventRow[]; error?: undefined } | { rows?: undefined; error: AirlockError };

export interface Write {
  query: QueryName;
  values: Record<string, unknown>;
}

export interface Plan {
  /** One per item, in order. */
  outcomes: Outcome[];
  /** Statements to run, in order, inside the transaction that holds the heads' locks. Empty if nothing passed. */
  writes: Write[];
  /** The doorbell for other nodes (see doorbell.ts): every session that got events, with its last seq. */
  rang: Array<[sessionId: string, lastSeq: number]>;
}

/**
 * @param heads the locked heads; a session missing here does not exist (or is being purged).
 * @param interactions status and session of every interaction an item requires pending (missing: none such).
 * @param rowsPerInsert events per insert statement.
 */
export function planCommits(
  items: PlannedItem[],
  heads: ReadonlyMap<string, Head>,
  interactions: ReadonlyMap<string, { sessionId: string; status: string }>,
  now: number,
  rowsPerInsert: number,
): Plan {
  const head = new Map(heads);
  const known = new Map(interactions);
  const outcomes: Outcome[] = [];
  const perItem: Write[] = [];
  const events: EventRow[] = [];
  const moved = new Set<string>();
  const leaseTtl = new Map<string, number>();

  for (const { sessionId, batch } of items) {
    const refused = refusal(sessionId, batch, head.get(sessionId), known);
    if (refused) {
      outcomes.push({ error: refused });
      continue;
    }
    const h = head.get(sessionId)!;
    const rows = eventRows(sessionId, h.lastSeq, now, batch.events);
    events.push(...rows);
    head.set(sessionId, { lastSeq: h.lastSeq + rows.length, journalOffset: batch.journalOffset ?? h.journalOffset });
    moved.add(sessionId);
    if (batch.epoch !== undefined && batch.leaseTtlMs) leaseTtl.set(sessionId, Math.max(leaseTtl.get(sessionId) ?? 0, batch.leaseTtlMs));
    perItem.push(...writesOf(sessionId, batch));
    for (const i of batch.interactions?.insert ?? []) known.set(i.id, { sessionId, status: i.status });
    for (const { id, patch } of batch.interactions?.update ?? []) {
      const i = known.get(id);
      if (i && i.sessionId === sessionId && patch.status !== undefined) known.set(id, { sessionId, status: patch.status });
    }
    outcomes.push({ rows });
  }
  if (moved.size === 0) return { outcomes, writes: [], rang: [] };

  const writes = [...eventInserts(events, rowsPerInsert), ...perItem];
  const ids = [...moved];
  writes.push({
    query: "advanceSessions",
    values: { ids, lastSeqs: ids.map((id) => head.get(id)!.lastSeq), offsets: ids.map((id) => head.get(id)!.journalOffset), ttls: ids.map((id) => leaseTtl.get(id) ?? 0), at: now },
  });
  const rang = ids.filter((id) => head.get(id)!.lastSeq > heads.get(id)!.lastSeq).map((id): [string, number] => [id, head.get(id)!.lastSeq]);
  return { outcomes, writes, rang };
}

/** Why a batch cannot be stored, checked in the order SQLite checks it; null when it can. */
function refusal(sessionId: string, batch: CommitBatch, head: Head | undefined, known: ReadonlyMap<string, { sessionId: string; status: string }>) {
  if (!head) return notFound(`no session ${sessionId}`);
  if (batch.epoch !== undefined && batch.epoch !== (head.epoch ?? 0)) return fenced(sessionId);
  const required = batch.requirePendingInteraction;
  if (required !== undefined) {
    const i = known.get(required);
    if (!i || i.sessionId !== sessionId) return notFound(`no interaction ${required}`);
    if (i.status !== "pending") return conflict("this interaction was already answered");
  }
  if (batch.journalOffset !== undefined && batch.journalOffset <= head.journalOffset) {
    return conflict(`journal offset ${batch.journalOffset} is not after the stored ${head.journalOffset}`);
  }
  return null;
}

/** Everything but the events and the head, in the order the SQLite store writes it. */
function writesOf(sessionId: string, batch: CommitBatch): Write[] {
  const out: Write[] = [];
  for (const t of batch.turns?.insert ?? []) out.push({ query: "insertTurn", values: turnParams(sessionId, t) });
  for (const { id, patch } of batch.turns?.update ?? []) out.push({ query: "patchTurn", values: { id, sessionId, patch: jsonbText(patch) } });
  for (const i of batch.interactions?.insert ?? []) out.push({ query: "insertInteraction", values: interactionParams(sessionId, i) });
  for (const { id, patch } of batch.interactions?.update ?? []) out.push({ query: "patchInteraction", values: interactionPatch(sessionId, id, patch) });
  if (batch.session) out.push({ query: "patchSession", values: { id: sessionId, patch: jsonbText(batch.session) } });
  if (batch.addUsage) {
    const { inputTokens, outputTokens, costUsd } = batch.addUsage;
    out.push({ query: "addUsage", values: { id: sessionId, inputTokens, outputTokens, costUsd } });
  }
  return out;
}

function interactionPatch(sessionId: string, id: string, patch: InteractionPatch) {
  const resolution = patch.resolution === undefined || patch.resolution === null ? null : JSON.stringify(patch.resolution);
  // The resolution goes in as written (a json column); the patch only says which keys are present.
  return { id, sessionId, patch: jsonbText(patch), resolution };
}

/** The rows of new events appended after `lastSeq`, as the store returns them. */
export function eventRows(sessionId: string, lastSeq: number, at: number, events: NewEvent[]): EventRow[] {
  return events.map((e, i) => ({ seq: lastSeq + i + 1, sessionId, at, type: e.type, turnId: e.turnId ?? null, data: JSON.stringify(e.data) }));
}

/** Insert statements for `rows`, at most `rowsPerInsert` rows each (one array per column). */
export function eventInserts(rows: EventRow[], rowsPerInsert: number): Write[] {
  const writes: Write[] = [];
  for (let i = 0; i < rows.length; i += rowsPerInsert) {
    const part = rows.slice(i, i + rowsPerInsert);
    writes.push({
      query: "insertEvents",
      values: {
        sessionIds: part.map((r) => r.sessionId),
        seqs: part.map((r) => r.seq),
        ats: part.map((r) => r.at),
        types: part.map((r) => r.type),
        turnIds: part.map((r) => r.turnId),
        data: part.map((r) => r.data),
      },
    });
  }
  return writes;
}
