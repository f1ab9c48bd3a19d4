/**
 * @module sqlite — the embedded store: better-sqlite3 in WAL mode, every statement from `sql.ts` prepared once.
 *
 * better-sqlite3 is synchronous, so a transaction can never interleave with another caller's: seqs are
 * gapless by construction. `commit` still returns a promise (the interface is shared with PostgreSQL) and
 * uses that to group commits: every commit asked for in the same tick, from any session, shares one
 * transaction — one WAL write instead of one per batch — and each batch runs in its own savepoint, so a
 * refused batch (a conflict) rolls back alone.
 *
 * @example
 * const store = createSqliteStore({ path: ":memory:" });
 * await store.migrate();
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import {
  type ApiKeyRecord,
  type CommitBatch,
  type EventRow,
  type NewEvent,
  type SessionRecord,
  type StoreV1,
  type WebhookRecord,
  type WorkspaceSeed,
  AirlockError,
  conflict,
  fenced,
  newId,
  notFound,
} from "@airlock/protocol";
import { hashApiKey, newApiKey } from "./api-key.ts";
import { startCheckpointer } from "./checkpointer.ts";
import { sqliteCluster } from "./sqlite-cluster.ts";
import { type PurgeState, purgeRefusal } from "./purge.ts";
import { interactionParams, sessionParams, toApiKey, toSecret, toInteraction, toSession, toTurn, turnParams } from "./rows.ts";
import { type QueryName, eventRowsPerInsert, insertEvents, migration, migrations, queries } from "./sql.ts";
import { sqliteWebhooks } from "./sqlite-webhooks.ts";

export interface SqliteStoreOptions {
  /** A file (its folder is created if missing) or `:memory:`. */
  path: string;
}

type Statements = Record<QueryName, Database.Statement>;
type Row = Record<string, any>;
interface Pending {
  sessionId: string;
  batch: CommitBatch;
  resolve(rows: EventRow[]): void;
  reject(error: unknown): void;
}

export function createSqliteStore(options: SqliteStoreOptions): StoreV1 {
  const memory = options.path === ":memory:";
  if (!memory) mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma("journal_mode = WAL");
  // NORMAL in WAL mode: a commit survives a crash of the process; a power cut may lose the last commits
  // but never corrupts the file. sandboxd keeps the journal until it is acknowledged, so they are replayed.
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  // File databases checkpoint in a worker thread, off the event loop; see checkpointer.ts.
  const checkpointer = memory ? null : (db.pragma("wal_autocheckpoint = 0"), startCheckpointer(options.path));

  // Prepared on first use rather than here: the tables exist only once `migrate()` has run.
  let prepared: Statements | null = null;
  const st = (): Statements =>
    (prepared ??= Object.fromEntries(Object.entries(queries).map(([name, text]) => [name, db.prepare(text)])) as Statements);

  // Multi-row inserts of 64, 32, ... 1 rows: a batch of n events takes at most n / 64 + 6 statement steps.
  const multiInserts = new Map<number, Database.Statement>();
  const insertOf = (n: number) => multiInserts.get(n) ?? multiInserts.set(n, db.prepare(insertEvents(n))).get(n)!;
  const appendEvents = (sessionId: string, lastSeq: number, at: number, events: NewEvent[]): EventRow[] => {
    const rows: EventRow[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      rows[i] = { seq: lastSeq + i + 1, sessionId, at, type: e.type, turnId: e.turnId ?? null, data: JSON.stringify(e.data) };
    }
    for (let i = 0; i < rows.length; ) {
      let n = eventRowsPerInsert;
      while (n > rows.length - i) n >>= 1;
      const params: unknown[] = [];
      for (let j = i; j < i + n; j++) params.push(sessionId, rows[j].seq, at, rows[j].type, rows[j].turnId, rows[j].data);
      insertOf(n).run(params);
      i += n;
    }
    return rows;
  };

  // Nested inside `flushTx`, better-sqlite3 runs this as a savepoint; alone, as a transaction of its own.
  const commitTx = db.transaction((sessionId: string, batch: CommitBatch): EventRow[] => {
    const s = st();
    const head = s.sessionHead.get(sessionId) as Row | undefined;
    if (!head) throw notFound(`no session ${sessionId}`);
    if (batch.epoch !== undefined && batch.epoch !== head.lease_epoch) throw fenced(sessionId);
    if (batch.requirePendingInteraction !== undefined) {
      const i = s.interactionStatus.get(batch.requirePendingInteraction, sessionId) as Row | undefined;
      if (!i) throw notFound(`no interaction ${batch.requirePendingInteraction}`);
      if (i.status !== "pending") throw conflict("this interaction was already answered");
    }
    if (batch.journalOffset !== undefined && batch.journalOffset <= head.journal_offset) {
      throw conflict(`journal offset ${batch.journalOffset} is not after the stored ${head.journal_offset}`);
    }
    const now = Date.now();
    const rows = appendEvents(sessionId, head.last_seq, now, batch.events);
    for (const t of batch.turns?.insert ?? []) s.insertTurn.run(turnParams(sessionId, t));
    for (const { id, patch } of batch.turns?.update ?? []) s.patchTurn.run({ id, sessionId, patch: JSON.stringify(patch) });
    for (const i of batch.interactions?.insert ?? []) s.insertInteraction.run(interactionParams(sessionId, i));
    for (const { id, patch } of batch.interactions?.update ?? []) {
      s.patchInteraction.run({ id, sessionId, patch: JSON.stringify(patch) });
    }
    if (batch.session) s.patchSession.run({ id: sessionId, patch: JSON.stringify(batch.session) });
    if (batch.addUsage) s.addUsage.run({ id: sessionId, ...pickUsage(batch.addUsage) });
    s.advanceSession.run(head.last_seq + rows.length, batch.journalOffset ?? head.journal_offset, now, sessionId);
    if (batch.epoch !== undefined && batch.leaseTtlMs) s.extendLease.run({ id: sessionId, until: now + batch.leaseTtlMs });
    return rows;
  });

  let queue: Pending[] = [];
  const attempt = (item: Pending): { rows?: EventRow[]; error?: unknown } => {
    try {
      return { rows: commitTx(item.sessionId, item.batch) };
    } catch (error) {
      return { error: translate(error) };
    }
  };
  const flushTx = db.transaction((items: Pending[]) => items.map(attempt));
  const flush = () => {
    if (queue.length === 0) return;
    const items = queue;
    queue = [];
    let results: Array<{ rows?: EventRow[]; error?: unknown }>;
    try {
      // A batch alone in its tick (the usual case at token rates) needs no savepoint around it.
      results = items.length === 1 ? [attempt(items[0])] : flushTx(items);
    } catch (error) {
      // The transaction itself failed (disk full, I/O error): nothing of any batch was stored.
      for (const item of items) item.reject(translate(error));
      return;
    }
    items.forEach((item, i) => (results[i].rows ? item.resolve(results[i].rows) : item.reject(results[i].error)));
  };

  const webhooks = sqliteWebhooks(db);
  const createTx = db.transaction((session: SessionRecord, first: NewEvent[], webhook?: WebhookRecord, seed?: WorkspaceSeed): EventRow[] => {
    st().insertSession.run(sessionParams(session, first.length));
    if (seed) st().insertSeed.run({ id: session.id, seed: JSON.stringify(seed) });
    webhooks.attachSession(session, webhook);
    return appendEvents(session.id, 0, session.createdAt, first);
  });

  // One purged session's rows, at most `maxRows` of them, each kind only once the one before is exhausted.
  const purgeTx = db.transaction((maxRows: number) => {
    const s = st();
    const next = s.nextPurge.get() as Row | undefined;
    if (!next) return { removedRows: 0, removedSessions: 0, more: false };
    let left = maxRows;
    for (const purge of [s.purgeEvents, s.purgeTurns, s.purgeInteractions]) if (left > 0) left -= purge.run({ id: next.id, limit: left }).changes;
    const removedSessions = left > 0 ? s.purgeSession.run({ id: next.id }).changes : 0;
    return { removedRows: maxRows - left, removedSessions, more: true };
  });

  let closing: Promise<void> | null = null;

  return {
    specificationVersion: "v1",
    kind: "sqlite",
    webhooks,

    async migrate() {
      // IMMEDIATE: two processes starting on the same file cannot both apply a migration. Every known version
      // not recorded yet is applied, not only those above the highest: versions numbered in advance and merged
      // out of order still reach databases made in between.
      db.transaction(() => {
        db.exec(migration.createVersionTable);
        const applied = new Set((db.prepare(migration.versions).all() as Row[]).map((r) => r.version as number));
        const unknown = [...applied].filter((v) => !migrations.some((m) => m.version === v));
        if (unknown.length) {
          throw new AirlockError("internal", `the database has schema version ${Math.max(...unknown)}, newer than this Airlock knows; upgrade Airlock`);
        }
        for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
          if (applied.has(m.version)) continue;
          for (const statement of m.install) db.exec(statement);
          db.prepare(migration.recordVersion).run(m.version);
        }
      }).immediate();
    },

    close() {
      return (closing ??= (async () => {
        flush();
        await checkpointer?.stop();
        db.close();
      })());
    },

    async createSession(session, firstEvents, webhook, seed) {
      try {
        return createTx(session, firstEvents, webhook, seed);
      } catch (error) {
        throw translate(error);
      }
    },
    async sessionSeed(id) {
      const row = st().getSeed.get({ id }) as Row | undefined;
      return row ? (JSON.parse(row.seed) as WorkspaceSeed) : null;
    },
    async dropSessionSeed(id) {
      st().deleteSeed.run({ id });
    },
    async getSession(id) {
      const row = st().getSession.get(id) as Row | undefined;
      return row ? toSession(row) : null;
    },
    async listSessions(q) {
      const params = { tenant: q.tenant, status: q.status ?? null, before: q.before ?? null, metadata: JSON.stringify(q.metadata ?? {}), limit: q.limit };
      return (st().listSessions.all(params) as Row[]).map(toSession);
    },
    async listLiveSessions() {
      return (st().liveSessions.all() as Row[]).map(toSession);
    },
    async countLiveSessions(tenant) {
      return (st().countLiveSessions.get(tenant) as Row).n;
    },

    commit(sessionId, batch) {
      if (closing) return Promise.reject(new AirlockError("unavailable", "the store is closed"));
      return new Promise<EventRow[]>((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ sessionId, batch, resolve, reject });
      });
    },
    async readEvents(sessionId, after, limit) {
      return st().readEvents.all(sessionId, after, limit) as EventRow[];
    },
    async readEventsOf(cursors, limit) {
      return cursors.flatMap((c) => st().readEvents.all(c.sessionId, c.after, limit) as EventRow[]);
    },

    async listTurns(sessionId, status) {
      const rows = status ? st().listTurnsWithStatus.all({ sessionId, status }) : st().listTurns.all({ sessionId });
      return (rows as Row[]).map(toTurn);
    },
    async getTurn(sessionId, id) {
      const row = st().getTurn.get(id, sessionId) as Row | undefined;
      return row ? toTurn(row) : null;
    },
    async findTurnByIdempotencyKey(sessionId, key) {
      const row = st().turnByIdempotencyKey.get(sessionId, key) as Row | undefined;
      return row ? toTurn(row) : null;
    },
    async listInteractions(sessionId, filter = {}) {
      const delivered = filter.delivered === undefined ? null : filter.delivered ? 1 : 0;
      const rows = filter.status
        ? st().listInteractionsWithStatus.all({ sessionId, status: filter.status, delivered })
        : st().listInteractions.all({ sessionId, delivered });
      return (rows as Row[]).map(toInteraction);
    },
    async getInteraction(sessionId, id) {
      const row = st().getInteraction.get(id, sessionId) as Row | undefined;
      return row ? toInteraction(row) : null;
    },
    async findInteractionByIdempotencyKey(sessionId, key) {
      const row = st().interactionByIdempotencyKey.get(sessionId, key) as Row | undefined;
      return row ? toInteraction(row) : null;
    },

    async createApiKey(tenant, name) {
      const key = newApiKey();
      const record: ApiKeyRecord = { id: newId("apiKey"), tenant, name, createdAt: Date.now() };
      st().insertApiKey.run(record.id, tenant, name, hashApiKey(key), record.createdAt);
      return { record, key };
    },
    async findApiKey(key) {
      const row = st().findApiKey.get(hashApiKey(key)) as Row | undefined;
      return row ? toApiKey(row) : null;
    },
    async listApiKeys(tenant) {
      return (st().listApiKeys.all({ tenant: tenant ?? null }) as Row[]).map(toApiKey);
    },
    async revokeApiKey(id) {
      return st().revokeApiKey.run(Date.now(), id).changes > 0;
    },

    async putSecret(secret) {
      const { tenant, name, value, now } = secret;
      return toSecret(st().putSecret.get({ tenant, name, value, now }) as Row);
    },
    async listSecrets(tenant) {
      return (st().listSecrets.all(tenant) as Row[]).map(toSecret);
    },
    async getSecrets(tenant, names) {
      if (names.length === 0) return [];
      return (st().getSecrets.all({ tenant, names: JSON.stringify(names) }) as Row[]).map(toSecret);
    },
    async deleteSecret(tenant, name) {
      return st().deleteSecret.run(tenant, name).changes > 0;
    },

    async requestPurge(sessionId) {
      flush(); // a commit already asked for is written first, as it would be had the purge come a tick later
      if (st().requestPurge.run({ id: sessionId, now: Date.now() }).changes > 0) return;
      const refused = purgeRefusal(sessionId, st().purgeState.get({ id: sessionId }) as PurgeState | undefined);
      if (refused) throw refused;
    },
    async purgeStep(maxRows) {
      return purgeTx(maxRows);
    },
    async listEndedSessions(query) {
      const rows = st().endedSessions.all({ endedBefore: query.endedBefore, sandboxKept: query.sandboxKept ? 1 : 0, limit: query.limit });
      return (rows as Row[]).map(toSession);
    },

    ...sqliteCluster(db, st),
  };
}

// Only the three totals: the usage column is rebuilt from them, and stray fields must not reach SQL.
const pickUsage = (u: CommitBatch["addUsage"] & {}) => ({ inputTokens: u.inputTokens, outputTokens: u.outputTokens, costUsd: u.costUsd });

/** SQLite errors that callers can act on become `AirlockError`s; anything else passes through unchanged. */
function translate(error: unknown): unknown {
  if (AirlockError.is(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE") {
    return new AirlockError("conflict", "a record with this id already exists", undefined, { cause: error });
  }
  if (code === "SQLITE_BUSY" || code === "SQLITE_FULL") {
    return new AirlockError("unavailable", `the database cannot take writes right now (${code})`, undefined, { cause: error });
  }
  return error;
}
