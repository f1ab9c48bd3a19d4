/**
 * @module sqlite — the embedded store: better-sqlite3 in WAL mode.
 *
 * Writes are synchronous inside one transaction per `commit` (group commit: the driver hands over a whole
 * journal chunk at once), so seqs are gapless and the journal offset moves with the events it produced.
 */
import { createHash, randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import {
  type ApiKeyRecord,
  type CommitBatch,
  type EventRow,
  type InteractionRecord,
  type NewEvent,
  type SessionQuery,
  type SessionRecord,
  type StoreV1,
  type TurnRecord,
  type TurnStatus,
  AirlockError,
  newId,
  notFound,
} from "@airlock/protocol";
import { startCheckpointer } from "./checkpointer.ts";
import { migrations } from "./schema.ts";

type Row = Record<string, any>;

const sessionColumns: Record<string, string> = {
  status: "status",
  statusReason: "status_reason",
  sandbox: "sandbox",
  acpSessionId: "acp_session_id",
  usage: "usage",
  idleDeadline: "idle_deadline",
  options: "options",
};
const jsonSessionFields = new Set(["sandbox", "usage", "options"]);

const turnColumns: Record<string, string> = { status: "status", stopReason: "stop_reason", error: "error", startedAt: "started_at", endedAt: "ended_at" };
const interactionColumns: Record<string, string> = { status: "status", resolution: "resolution", delivered: "delivered", resolvedAt: "resolved_at" };

export function createSqliteStore(options: { path: string }): StoreV1 {
  const db = new Database(options.path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  // File databases checkpoint in a worker thread; see checkpointer.ts.
  const checkpointer = options.path === ":memory:" ? null : (db.pragma("wal_autocheckpoint = 0"), startCheckpointer(options.path));

  let s: ReturnType<typeof prepare> | null = null;
  const stmts = () => (s ??= prepare(db));

  const commitTx = db.transaction((sessionId: string, batch: CommitBatch): EventRow[] => {
    const st = stmts();
    const head = st.sessionHead.get(sessionId) as Row | undefined;
    if (!head) throw notFound(`no session ${sessionId}`);
    if (batch.requirePendingInteraction) {
      const i = st.interactionStatus.get(batch.requirePendingInteraction, sessionId) as Row | undefined;
      if (!i) throw notFound(`no interaction ${batch.requirePendingInteraction}`);
      if (i.status !== "pending") throw new AirlockError("conflict", "this interaction was already answered");
    }
    if (batch.journalOffset !== undefined && batch.journalOffset <= head.journal_offset) {
      throw new AirlockError("conflict", `journal offset ${batch.journalOffset} is not after the stored ${head.journal_offset}`);
    }
    const now = Date.now();
    const rows = appendEvents(st, sessionId, head.last_seq, now, batch.events);
    for (const t of batch.turns?.insert ?? []) {
      st.insertTurn.run(t.id, sessionId, t.status, JSON.stringify(t.prompt), t.stopReason, t.error, t.createdAt, t.startedAt, t.endedAt);
    }
    for (const { id, patch } of batch.turns?.update ?? []) {
      for (const [key, value] of Object.entries(patch)) st.turnField[key]?.run(value ?? null, id, sessionId);
    }
    for (const i of batch.interactions?.insert ?? []) {
      st.insertInteraction.run(i.id, sessionId, i.turnId, i.kind, JSON.stringify(i.rpcId), JSON.stringify(i.request), i.status, i.resolution ? JSON.stringify(i.resolution) : null, i.delivered ? 1 : 0, i.createdAt, i.resolvedAt);
    }
    for (const { id, patch } of batch.interactions?.update ?? []) {
      for (const [key, value] of Object.entries(patch)) {
        const v = key === "resolution" ? (value ? JSON.stringify(value) : null) : key === "delivered" ? (value ? 1 : 0) : (value ?? null);
        st.interactionField[key]?.run(v, id, sessionId);
      }
    }
    for (const [key, value] of Object.entries(batch.session ?? {})) {
      const v = jsonSessionFields.has(key) ? (value === null || value === undefined ? null : JSON.stringify(value)) : (value ?? null);
      st.sessionField[key]?.run(v, sessionId);
    }
    if (batch.addUsage) {
      const u = batch.addUsage;
      st.addUsage.run(u.inputTokens, u.outputTokens, u.costUsd, sessionId);
    }
    st.advance.run(head.last_seq + rows.length, batch.journalOffset ?? head.journal_offset, now, sessionId);
    return rows;
  });

  // Group commit: every commit asked for in the same tick, from any session, shares one transaction (one WAL
  // write); each runs in its own savepoint, so a refused batch (a conflict) rolls back alone.
  let queue: Array<{ sessionId: string; batch: CommitBatch; resolve(rows: EventRow[]): void; reject(err: unknown): void }> = [];
  const flushTx = db.transaction((items: typeof queue) => {
    const results: Array<{ rows?: EventRow[]; error?: unknown }> = [];
    for (const item of items) {
      try {
        results.push({ rows: commitTx(item.sessionId, item.batch) });
      } catch (error) {
        results.push({ error });
      }
    }
    return results;
  });
  const flush = () => {
    const items = queue;
    queue = [];
    let results: Array<{ rows?: EventRow[]; error?: unknown }>;
    try {
      results = flushTx(items);
    } catch (error) {
      for (const item of items) item.reject(error);
      return;
    }
    items.forEach((item, i) => (results[i].error ? item.reject(results[i].error) : item.resolve(results[i].rows!)));
  };

  const createTx = db.transaction((session: SessionRecord, first: NewEvent[]): EventRow[] => {
    const st = stmts();
    st.insertSession.run(
      session.id,
      session.tenant,
      session.agent,
      session.provider,
      session.status,
      session.statusReason,
      JSON.stringify(session.options),
      JSON.stringify(session.metadata),
      session.sandbox ? JSON.stringify(session.sandbox) : null,
      session.acpSessionId,
      JSON.stringify(session.usage),
      session.idleDeadline,
      session.createdAt,
      session.updatedAt,
    );
    const rows = appendEvents(st, session.id, 0, session.createdAt, first);
    st.advance.run(rows.length, 0, session.updatedAt, session.id);
    return rows;
  });

  return {
    specificationVersion: "v1",
    kind: "sqlite",
    async migrate() {
      db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      const current = (db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as Row).v ?? 0;
      db.transaction(() => {
        for (const m of migrations) {
          if (m.version <= current) continue;
          for (const sql of m.install) db.exec(sql);
          db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(m.version);
        }
      })();
    },
    async close() {
      if (queue.length) flush();
      await checkpointer?.stop();
      db.close();
    },
    async createSession(session, firstEvents) {
      return createTx(session, firstEvents);
    },
    async getSession(id) {
      const row = stmts().getSession.get(id) as Row | undefined;
      return row ? toSession(row) : null;
    },
    async listSessions(q: SessionQuery) {
      // Metadata filters are applied in SQL through json_extract, one bound parameter per key.
      const where = ["tenant = ?"];
      const params: unknown[] = [q.tenant];
      if (q.status) {
        where.push("status = ?");
        params.push(q.status);
      }
      if (q.before) {
        where.push("id < ?");
        params.push(q.before);
      }
      for (const [key, value] of Object.entries(q.metadata ?? {})) {
        where.push("json_extract(metadata, ?) = ?");
        params.push(`$.${JSON.stringify(key)}`, value);
      }
      params.push(q.limit);
      const rows = db.prepare(`SELECT * FROM sessions WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`).all(...params) as Row[];
      return rows.map(toSession);
    },
    async listLiveSessions() {
      return (stmts().liveSessions.all() as Row[]).map(toSession);
    },
    async countLiveSessions(tenant) {
      return (stmts().countLive.get(tenant) as Row).n;
    },
    commit(sessionId, batch) {
      return new Promise<EventRow[]>((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ sessionId, batch, resolve, reject });
      });
    },
    async readEvents(sessionId, after, limit) {
      return stmts().readEvents.all(sessionId, after, limit) as EventRow[];
    },
    async listTurns(sessionId, status?: TurnStatus) {
      const rows = (status ? stmts().turnsByStatus.all(sessionId, status) : stmts().turns.all(sessionId)) as Row[];
      return rows.map(toTurn);
    },
    async getTurn(sessionId, id) {
      const row = stmts().getTurn.get(id, sessionId) as Row | undefined;
      return row ? toTurn(row) : null;
    },
    async listInteractions(sessionId, filter = {}) {
      let rows = stmts().interactions.all(sessionId) as Row[];
      if (filter.status) rows = rows.filter((r) => r.status === filter.status);
      if (filter.delivered !== undefined) rows = rows.filter((r) => Boolean(r.delivered) === filter.delivered);
      return rows.map(toInteraction);
    },
    async getInteraction(sessionId, id) {
      const row = stmts().getInteraction.get(id, sessionId) as Row | undefined;
      return row ? toInteraction(row) : null;
    },
    async createApiKey(tenant, name) {
      const key = `ak_${randomBytes(32).toString("base64url")}`;
      const record: ApiKeyRecord = { id: newId("apiKey"), tenant, name, createdAt: Date.now() };
      stmts().insertKey.run(record.id, tenant, name, hashKey(key), record.createdAt);
      return { record, key };
    },
    async findApiKey(key) {
      const row = stmts().findKey.get(hashKey(key)) as Row | undefined;
      return row ? { id: row.id, tenant: row.tenant, name: row.name, createdAt: row.created_at } : null;
    },
    async listApiKeys(tenant) {
      const rows = (tenant ? stmts().keysOfTenant.all(tenant) : stmts().keys.all()) as Row[];
      return rows.map((r) => ({ id: r.id, tenant: r.tenant, name: r.name, createdAt: r.created_at }));
    },
    async revokeApiKey(id) {
      return stmts().revokeKey.run(Date.now(), id).changes > 0;
    },
  };
}

function prepare(db: Database.Database) {
  const field = (table: string, columns: Record<string, string>, scope: string) =>
    Object.fromEntries(Object.entries(columns).map(([key, col]) => [key, db.prepare(`UPDATE ${table} SET ${col} = ? WHERE ${scope}`)]));
  return {
    sessionHead: db.prepare("SELECT last_seq, journal_offset FROM sessions WHERE id = ?"),
    getSession: db.prepare("SELECT * FROM sessions WHERE id = ?"),
    insertSession: db.prepare(
      `INSERT INTO sessions (id, tenant, agent, provider, status, status_reason, options, metadata, sandbox, acp_session_id, usage, idle_deadline, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    liveSessions: db.prepare("SELECT * FROM sessions WHERE status NOT IN ('stopped', 'failed') ORDER BY id"),
    countLive: db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE tenant = ? AND status NOT IN ('stopped', 'failed')"),
    advance: db.prepare("UPDATE sessions SET last_seq = ?, journal_offset = ?, updated_at = ? WHERE id = ?"),
    addUsage: db.prepare(
      `UPDATE sessions SET usage = json_object(
         'inputTokens', json_extract(usage, '$.inputTokens') + ?,
         'outputTokens', json_extract(usage, '$.outputTokens') + ?,
         'costUsd', json_extract(usage, '$.costUsd') + ?) WHERE id = ?`,
    ),
    sessionField: field("sessions", sessionColumns, "id = ?"),
    insertEvent: db.prepare("INSERT INTO events (session_id, seq, at, type, turn_id, data) VALUES (?, ?, ?, ?, ?, ?)"),
    readEvents: db.prepare(
      "SELECT session_id AS sessionId, seq, at, type, turn_id AS turnId, data FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    ),
    insertTurn: db.prepare(
      "INSERT INTO turns (id, session_id, status, prompt, stop_reason, error, created_at, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    turnField: field("turns", turnColumns, "id = ? AND session_id = ?"),
    turns: db.prepare("SELECT * FROM turns WHERE session_id = ? ORDER BY id"),
    turnsByStatus: db.prepare("SELECT * FROM turns WHERE session_id = ? AND status = ? ORDER BY id"),
    getTurn: db.prepare("SELECT * FROM turns WHERE id = ? AND session_id = ?"),
    insertInteraction: db.prepare(
      `INSERT INTO interactions (id, session_id, turn_id, kind, rpc_id, request, status, resolution, delivered, created_at, resolved_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    interactionField: field("interactions", interactionColumns, "id = ? AND session_id = ?"),
    interactionStatus: db.prepare("SELECT status FROM interactions WHERE id = ? AND session_id = ?"),
    interactions: db.prepare("SELECT * FROM interactions WHERE session_id = ? ORDER BY id"),
    getInteraction: db.prepare("SELECT * FROM interactions WHERE id = ? AND session_id = ?"),
    insertKey: db.prepare("INSERT INTO api_keys (id, tenant, name, hash, created_at) VALUES (?, ?, ?, ?, ?)"),
    findKey: db.prepare("SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL"),
    keys: db.prepare("SELECT * FROM api_keys WHERE revoked_at IS NULL ORDER BY id"),
    keysOfTenant: db.prepare("SELECT * FROM api_keys WHERE tenant = ? AND revoked_at IS NULL ORDER BY id"),
    revokeKey: db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
  };
}

function appendEvents(st: ReturnType<typeof prepare>, sessionId: string, lastSeq: number, at: number, events: NewEvent[]): EventRow[] {
  const rows: EventRow[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const row: EventRow = { seq: lastSeq + i + 1, sessionId, at, type: e.type, turnId: e.turnId ?? null, data: JSON.stringify(e.data) };
    st.insertEvent.run(sessionId, row.seq, at, row.type, row.turnId, row.data);
    rows[i] = row;
  }
  return rows;
}

const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");
const parse = (text: string | null) => (text === null ? null : JSON.parse(text));

function toSession(r: Row): SessionRecord {
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
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toTurn(r: Row): TurnRecord {
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
  };
}

function toInteraction(r: Row): InteractionRecord {
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
  };
}
