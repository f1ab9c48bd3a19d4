/**
 * @module postgres/store — the store for several nodes on one PostgreSQL: a `pg` pool of pipelined connections,
 * every statement from `sql.ts`, prepared once per connection. Commits go through the group committer
 * (commit.ts); the rest are single statements or one short transaction.
 *
 * @example
 * const store = createPostgresStore({ url: "postgres://airlock@db.internal/airlock" });
 * await store.migrate();
 */
import pg from "pg";
import { type ApiKeyRecord, type EventRow, type StoreV1, type WorkspaceSeed, AirlockError, newId } from "@airlock/protocol";
import { hashApiKey, newApiKey } from "../api-key.ts";
import { type PurgeState, purgeRefusal } from "../purge.ts";
import { sessionParams, toApiKey, toInteraction, toSecret, toSession, toTurn } from "../rows.ts";
import { postgresCluster } from "./cluster.ts";
import { type CommitterOptions, GroupCommitter, run } from "./commit.ts";
import { Doorbell } from "./doorbell.ts";
import { eventInserts, eventRows } from "./commit-plan.ts";
import { describeUrl, isServerError, translatePgError } from "./errors.ts";
import { migrate } from "./migrate.ts";
import { type QueryName, type Statement, eventRowsPerInsert, migrations, queries } from "./sql.ts";
import { attachSessionSteps, postgresWebhooks } from "./webhooks.ts";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (DATABASE_URL). */
  url: string;
  /** Connections at most (default 10). */
  poolSize?: number;
  /** Group commit settings (commit.ts); the defaults suit a node. */
  commit?: Partial<CommitterOptions>;
  /** Errors of idle pooled connections (the server restarted, the network dropped): the pool replaces them. */
  onError?: (error: unknown) => void;
}

type Row = Record<string, any>;
type Step = [QueryName | Statement, Record<string, unknown>];

// bigint columns are ms timestamps, seqs and counts: well inside 2^53, so numbers rather than pg's strings.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as any)) as typeof pg.types.getTypeParser,
};

export function createPostgresStore(options: PostgresStoreOptions): StoreV1 {
  const where = describeUrl(options.url);
  const newPool = (max: number, applicationName: string) => {
    const p = new pg.Pool({
      connectionString: options.url,
      max,
      pipeline: true,
      types,
      application_name: applicationName,
      keepAlive: true,
      // Fail a request rather than hang it when the database cannot be reached.
      connectionTimeoutMillis: 10_000,
      // A node that stops mid-transaction (paused, partitioned) must not hold its sessions' locks for long.
      idle_in_transaction_session_timeout: 10_000,
    } as pg.PoolConfig);
    p.on("error", (error) => options.onError?.(error));
    return p;
  };
  const pool = newPool(options.poolSize ?? 10, "airlock");
  // Commits (and the doorbell after them) have connections of their own: reads of many subscribed sessions must
  // never make a commit queue for a connection, since every event's latency runs through a commit.
  const concurrency = options.commit?.concurrency ?? Math.max(1, Math.floor((options.poolSize ?? 10) / 2));
  const commitPool = newPool(concurrency + 1, "airlock-commit");
  const translate = (error: unknown) => translatePgError(error, where);
  const doorbell = new Doorbell(commitPool, "airlock_events", (error) => options.onError?.(error));
  const committer = new GroupCommitter(
    commitPool,
    translate,
    {
      concurrency,
      maxBatches: 256,
      rowsPerInsert: eventRowsPerInsert,
      ...options.commit,
    },
    (rang) => doorbell.ring(rang),
  );
  const q = async (name: QueryName, values: Record<string, unknown>): Promise<pg.QueryResult<Row>> => {
    try {
      return await run(pool, queries[name], values);
    } catch (error) {
      throw translate(error);
    }
  };
  /** Statements pipelined in one transaction on one connection; the first failure rolls all back and is thrown. */
  const transaction = async (steps: Step[]) => {
    const client = await pool.connect().catch((error) => Promise.reject(translate(error)));
    const results = await Promise.allSettled([client.query("BEGIN"), ...steps.map(([name, values]) => run(client, typeof name === "string" ? queries[name] : name, values)), client.query("COMMIT")]);
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    client.release(failed && !isServerError(failed.reason) ? failed.reason : undefined);
    if (failed) throw translate(failed.reason);
  };

  let closing: Promise<void> | null = null;

  return {
    specificationVersion: "v1",
    kind: "postgres",
    webhooks: postgresWebhooks(pool, translate),

    async migrate() {
      try {
        await migrate(pool, migrations);
      } catch (error) {
        throw translate(error);
      }
    },

    close() {
      return (closing ??= (async () => {
        await committer.drain();
        await doorbell.drain();
        await Promise.all([pool.end(), commitPool.end()]);
      })());
    },

    async createSession(session, firstEvents, webhook, seed) {
      const rows = eventRows(session.id, 0, session.createdAt, firstEvents);
      const inserts = eventInserts(rows, eventRowsPerInsert).map((w): Step => [w.query, w.values]);
      const seeded: Step[] = seed ? [["insertSeed", { id: session.id, seed: JSON.stringify(seed) }]] : [];
      await transaction([["insertSession", sessionParams(session, rows.length)], ...seeded, ...attachSessionSteps(session, webhook), ...inserts]);
      return rows;
    },
    async sessionSeed(id) {
      const { rows } = await q("getSeed", { id });
      return rows[0] ? (JSON.parse(rows[0].seed) as WorkspaceSeed) : null;
    },
    async dropSessionSeed(id) {
      await q("deleteSeed", { id });
    },
    async getSession(id) {
      const { rows } = await q("getSession", { id });
      return rows[0] ? toSession(rows[0]) : null;
    },
    async listSessions(query) {
      const { rows } = await q("listSessions", {
        tenant: query.tenant,
        status: query.status ?? null,
        before: query.before ?? null,
        metadata: JSON.stringify(query.metadata ?? {}),
        limit: query.limit,
      });
      return rows.map(toSession);
    },
    async listLiveSessions() {
      return (await q("liveSessions", {})).rows.map(toSession);
    },
    async countLiveSessions(tenant) {
      return (await q("countLiveSessions", { tenant })).rows[0].n;
    },

    commit(sessionId, batch) {
      if (closing) return Promise.reject(new AirlockError("unavailable", "the store is closed"));
      return committer.commit(sessionId, batch);
    },
    async readEvents(sessionId, after, limit) {
      return (await q("readEvents", { sessionId, after, limit })).rows as EventRow[];
    },
    async readEventsOf(cursors, limit) {
      if (cursors.length === 0) return [];
      const { rows } = await q("readEventsOf", { ids: cursors.map((c) => c.sessionId), afters: cursors.map((c) => c.after), limit });
      return rows as EventRow[];
    },

    async listTurns(sessionId, status) {
      const { rows } = status ? await q("listTurnsWithStatus", { sessionId, status }) : await q("listTurns", { sessionId });
      return rows.map(toTurn);
    },
    async getTurn(sessionId, id) {
      const { rows } = await q("getTurn", { id, sessionId });
      return rows[0] ? toTurn(rows[0]) : null;
    },
    async findTurnByIdempotencyKey(sessionId, key) {
      const { rows } = await q("turnByIdempotencyKey", { sessionId, key });
      return rows[0] ? toTurn(rows[0]) : null;
    },
    async listInteractions(sessionId, filter = {}) {
      const delivered = filter.delivered ?? null;
      const { rows } = filter.status
        ? await q("listInteractionsWithStatus", { sessionId, status: filter.status, delivered })
        : await q("listInteractions", { sessionId, delivered });
      return rows.map(toInteraction);
    },
    async getInteraction(sessionId, id) {
      const { rows } = await q("getInteraction", { id, sessionId });
      return rows[0] ? toInteraction(rows[0]) : null;
    },
    async findInteractionByIdempotencyKey(sessionId, key) {
      const { rows } = await q("interactionByIdempotencyKey", { sessionId, key });
      return rows[0] ? toInteraction(rows[0]) : null;
    },

    async createApiKey(tenant, name) {
      const key = newApiKey();
      const record: ApiKeyRecord = { id: newId("apiKey"), tenant, name, createdAt: Date.now() };
      await q("insertApiKey", { id: record.id, tenant, name, hash: hashApiKey(key), createdAt: record.createdAt });
      return { record, key };
    },
    async findApiKey(key) {
      const { rows } = await q("findApiKey", { hash: hashApiKey(key) });
      return rows[0] ? toApiKey(rows[0]) : null;
    },
    async listApiKeys(tenant) {
      return (await q("listApiKeys", { tenant: tenant ?? null })).rows.map(toApiKey);
    },
    async revokeApiKey(id) {
      return ((await q("revokeApiKey", { id, now: Date.now() })).rowCount ?? 0) > 0;
    },

    async putSecret(secret) {
      return toSecret((await q("putSecret", secret)).rows[0]);
    },
    async listSecrets(tenant) {
      return (await q("listSecrets", { tenant })).rows.map(toSecret);
    },
    async getSecrets(tenant, names) {
      if (names.length === 0) return [];
      return (await q("getSecrets", { tenant, names })).rows.map(toSecret);
    },
    async deleteSecret(tenant, name) {
      return ((await q("deleteSecret", { tenant, name })).rowCount ?? 0) > 0;
    },

    async requestPurge(sessionId) {
      if (((await q("requestPurge", { id: sessionId, now: Date.now() })).rowCount ?? 0) > 0) return;
      const refused = purgeRefusal(sessionId, (await q("purgeState", { id: sessionId })).rows[0] as PurgeState | undefined);
      if (refused) throw refused;
    },
    async purgeStep(maxRows) {
      const client = await pool.connect().catch((error) => Promise.reject(translate(error)));
      let broken: Error | undefined;
      const step = (name: QueryName, values: Record<string, unknown>) => run(client, queries[name], values);
      try {
        await client.query("BEGIN");
        const id = (await step("nextPurge", {})).rows[0]?.id as string | undefined;
        if (!id) {
          await client.query("COMMIT");
          return { removedRows: 0, removedSessions: 0, more: false };
        }
        // Each kind only once the one before is exhausted (fewer rows than asked for came back).
        let left = maxRows;
        for (const name of ["purgeEvents", "purgeTurns", "purgeInteractions"] as const) {
          if (left > 0) left -= (await step(name, { id, limit: left })).rowCount ?? 0;
        }
        const removedSessions = left > 0 ? ((await step("purgeSession", { id })).rowCount ?? 0) : 0;
        await client.query("COMMIT");
        return { removedRows: maxRows - left, removedSessions, more: true };
      } catch (error) {
        await client.query("ROLLBACK").catch((err: Error) => (broken = err));
        throw translate(error);
      } finally {
        client.release(broken);
      }
    },
    async listEndedSessions(query) {
      const { rows } = await q("endedSessions", { endedBefore: query.endedBefore, sandboxKept: query.sandboxKept ?? false, limit: query.limit });
      return rows.map(toSession);
    },

    ...postgresCluster(q, { connectionString: options.url, application_name: "airlock-listen" }, (error) => options.onError?.(error)),
    stats: () => ({ ...committer.stats, notifies: doorbell.sent }),
  };
}
