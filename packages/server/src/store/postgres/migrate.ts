/**
 * @module postgres/migrate — brings the database to this build's schema at start-up.
 *
 * One transaction under a transaction-scoped advisory lock: nodes that start at once migrate one after the
 * other (the second finds the work done), and PostgreSQL's DDL is transactional, so a migration is applied
 * whole or not at all. Every version this build knows and the database has not recorded is applied, in order —
 * not only those above the highest recorded one — so versions numbered in advance and merged out of order
 * still reach databases made in between.
 */
import type pg from "pg";
import { AirlockError } from "@airlock/protocol";
import type { Migration } from "../sql.ts";
import { migration } from "./sql.ts";

export async function migrate(pool: pg.Pool, migrations: Migration[]): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    await client.query(migration.lock);
    await client.query(migration.createVersionTable);
    const applied = new Set((await client.query<{ version: number }>(migration.versions)).rows.map((r) => r.version));
    const latest = Math.max(...migrations.map((m) => m.version));
    const newest = Math.max(0, ...applied);
    if (newest > latest) {
      throw new AirlockError("internal", `the database is at schema version ${newest}, newer than this Airlock (${latest}); upgrade Airlock`);
    }
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      for (const statement of m.install) await client.query(statement);
      await client.query(migration.recordVersion, [m.version, Date.now()]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch((err: Error) => (broken = err));
    throw error;
  } finally {
    client.release(broken);
  }
}
