/**
 * @module postgres/doorbell — tells the other nodes which sessions got events, once the events are stored.
 *
 * A NOTIFY inside a commit holds PostgreSQL's notification queue lock from before the commit until after its WAL
 * flush, so every notifying commit of every node waits for the one before it: with 150 sessions streaming over
 * three nodes the commits queued behind that lock (p99 in seconds). So commits ring here once they are stored,
 * and the doorbell sends what rang since its last NOTIFY in one statement, one at a time per node, in a
 * transaction that does not wait for its own WAL flush: a notification is not data, and one that is lost costs
 * the reading node a poll (see cluster/feed.ts), never an event.
 */
import type pg from "pg";
import { run, settled } from "./commit.ts";
import { queries } from "./sql.ts";

/** NOTIFY payloads must stay under 8000 bytes: entries joined up to a safe size, as few payloads as that allows. */
export function doorbellPayloads(entries: string[], maxBytes = 7000): string[] {
  const out: string[] = [];
  let current = "";
  for (const e of entries) {
    if (current && current.length + 1 + e.length > maxBytes) {
      out.push(current);
      current = "";
    }
    current = current ? `${current},${e}` : e;
  }
  if (current) out.push(current);
  return out;
}

export class Doorbell {
  /** Sessions that got events since the last NOTIFY, with the last seq stored. */
  private pending = new Map<string, number>();
  private sending: Promise<void> | null = null;
  /** NOTIFY statements sent since the store opened. */
  sent = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Sessions whose events are stored now, with their last seq. */
  ring(stored: Iterable<readonly [sessionId: string, lastSeq: number]>): void {
    for (const [id, seq] of stored) if (seq > (this.pending.get(id) ?? 0)) this.pending.set(id, seq);
    this.sending ??= this.send().finally(() => {
      this.sending = null;
      if (this.pending.size) this.ring([]);
    });
  }

  /** Resolves once what rang so far is sent. */
  async drain(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private async send(): Promise<void> {
    // Whatever else is stored in this turn of the event loop goes in the same NOTIFY.
    await new Promise((resolve) => setImmediate(resolve));
    const entries = [...this.pending].map(([id, seq]) => `${id}:${seq}`);
    this.pending.clear();
    if (entries.length === 0) return;
    const payloads = doorbellPayloads(entries);
    let client: pg.PoolClient | null = null;
    try {
      client = await this.pool.connect();
      const c = client;
      await settled([
        c.query("BEGIN"),
        c.query("SET LOCAL synchronous_commit = off"),
        run(c, queries.notifyMany, { channel: this.channel, payloads }),
        c.query("COMMIT"),
      ]).catch(async (error) => {
        await c.query("ROLLBACK").catch(() => {});
        throw error;
      });
      this.sent++;
    } catch (error) {
      this.onError(error);
    } finally {
      client?.release();
    }
  }
}
