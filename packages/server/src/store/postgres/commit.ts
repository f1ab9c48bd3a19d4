/**
 * @module postgres/commit — the write path of sessions' logs: group commit over pipelined connections.
 *
 * A commit is one transaction: lock the session's row (`FOR UPDATE`: concurrent writers of one session, on this
 * node or another, queue here, so seqs stay gapless), read its head, write, advance the head. Commits asked for
 * while others are in flight wait and then go together, several sessions' batches in one transaction: one lock
 * round, one events insert, one update of the heads, one WAL flush. Each group takes two round trips whatever
 * its size, as its statements are pipelined (BEGIN and the locks; then the writes and COMMIT).
 *
 * Batches of one session are written in the order they were asked for: a session with a group in flight waits
 * for it. A batch refused by a check (journal offset, a pending interaction) is refused alone; one that fails in
 * SQL (an id that exists) fails the group's transaction, which then runs again batch by batch, so the failure
 * falls on that batch only and the others are stored.
 */
import type pg from "pg";
import { AirlockError, type CommitBatch, type EventRow } from "@airlock/protocol";
import { type Head, type Outcome, planCommits } from "./commit-plan.ts";
import { isBatchError } from "./errors.ts";
import { type QueryName, type Statement, bind, queries } from "./sql.ts";

export interface CommitterOptions {
  /** Groups in flight at once, each on a connection of its own. */
  concurrency: number;
  /** Batches in one group at most; 1 turns grouping off. */
  maxBatches: number;
  /** Events per insert statement. */
  rowsPerInsert: number;
}

interface Pending {
  sessionId: string;
  batch: CommitBatch;
  resolve(rows: EventRow[]): void;
  reject(error: unknown): void;
}

type Row = Record<string, any>;

export class GroupCommitter {
  private queue: Pending[] = [];
  /** Sessions with a group in flight. */
  private readonly busy = new Set<string>();
  private running = 0;
  private scheduled = false;
  private idle: Array<() => void> = [];
  /** Transactions committed since the store opened. */
  readonly stats = { commits: 0 };

  /** @param onStored told, after each commit, the sessions that got events and their last seq (the doorbell). */
  constructor(
    private readonly pool: pg.Pool,
    private readonly translate: (error: unknown) => unknown,
    private readonly options: CommitterOptions,
    private readonly onStored: (rang: Array<[string, number]>) => void = () => {},
  ) {}

  commit(sessionId: string, batch: CommitBatch): Promise<EventRow[]> {
    return new Promise<EventRow[]>((resolve, reject) => {
      this.queue.push({ sessionId, batch, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.options.concurrency || this.queue.length === 0) return;
    this.scheduled = true;
    // The rest of this tick's commits join the group.
    setImmediate(() => {
      this.scheduled = false;
      this.start();
    });
  }

  private start(): void {
    while (this.running < this.options.concurrency) {
      const items = this.take();
      if (items.length === 0) break;
      this.running++;
      for (const item of items) this.busy.add(item.sessionId);
      void this.run(items).finally(() => {
        for (const item of items) this.busy.delete(item.sessionId);
        this.running--;
        if (this.queue.length === 0 && this.running === 0) for (const wake of this.idle.splice(0)) wake();
        this.schedule();
      });
    }
  }

  /** The next group: queued batches in order, skipping sessions another group is writing. */
  private take(): Pending[] {
    const group: Pending[] = [];
    const rest: Pending[] = [];
    for (const item of this.queue) {
      if (group.length < this.options.maxBatches && !this.busy.has(item.sessionId)) group.push(item);
      else rest.push(item);
    }
    this.queue = rest;
    return group;
  }

  private async run(items: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.attempt(items);
    } catch (error) {
      // Nothing of the group was stored. An error of one batch's own: each batch alone, so it reaches that batch
      // only. Anything else (the database is out of reach) would fail every batch again: they all get it now.
      if (items.length > 1 && isBatchError(error)) {
        for (const item of items) await this.run([item]);
        return;
      }
      const translated = this.translate(error);
      for (const item of items) item.reject(translated);
      return;
    }
    items.forEach((item, i) => {
      const o = outcomes[i];
      if (o.rows) item.resolve(o.rows);
      else item.reject(o.error);
    });
  }

  private async attempt(items: Pending[]): Promise<Outcome[]> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const q = (name: QueryName, values: Record<string, unknown>) => run(client, queries[name], values);
    try {
      const ids = [...new Set(items.map((i) => i.sessionId))];
      const required = items.flatMap((i) => (i.batch.requirePendingInteraction === undefined ? [] : [i.batch.requirePendingInteraction]));
      const [, locked, statuses] = await settled([
        client.query("BEGIN"),
        q("lockHeads", { ids }),
        required.length ? q("interactionStatuses", { ids: required }) : Promise.resolve({ rows: [] as Row[] }),
      ]);
      const heads = new Map<string, Head>(locked.rows.map((r: Row) => [r.id, { lastSeq: r.last_seq, journalOffset: r.journal_offset, epoch: r.lease_epoch }]));
      const interactions = new Map<string, { sessionId: string; status: string }>(
        statuses.rows.map((r: Row) => [r.id, { sessionId: r.session_id, status: r.status }]),
      );
      const plan = planCommits(items, heads, interactions, Date.now(), this.options.rowsPerInsert);
      const results = await settled([...plan.writes.map((w) => q(w.query, w.values)), client.query(plan.writes.length ? "COMMIT" : "ROLLBACK")]);
      // A failed statement turns COMMIT into a ROLLBACK: `settled` has thrown its error by then; this is the net.
      if (plan.writes.length && results.at(-1)!.command !== "COMMIT") throw new AirlockError("internal", "the commit was rolled back");
      if (plan.writes.length) this.stats.commits++;
      if (plan.rang.length) this.onStored(plan.rang);
      return plan.outcomes;
    } catch (error) {
      // Ends the transaction if it is still open (the lock round failed); a connection that cannot is dropped.
      await client.query("ROLLBACK").catch((err: Error) => (broken = err));
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/** Runs a statement by name (prepared once per connection). */
export function run(client: pg.PoolClient | pg.Pool, statement: Statement, values: Record<string, unknown>): Promise<pg.QueryResult<Row>> {
  return client.query<Row>({ name: statement.name, text: statement.text, values: bind(statement, values) });
}

/**
 * Waits for every pipelined query (the connection must be clear before it is used again), then throws the first
 * failure, if any.
 */
export async function settled<T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
