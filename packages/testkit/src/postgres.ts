/**
 * @module postgres — throwaway PostgreSQL databases for tests: one per test file (or per server), made with a
 * unique name from an admin connection and dropped afterwards, so test files running side by side never see
 * each other's rows.
 *
 * The admin connection is `AIRLOCK_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
 * the cluster `.ci/run` provides).
 *
 * @example
 * const db = await createTestDatabase("store");
 * afterAll(() => db.drop());
 * const store = createPostgresStore({ url: db.url });
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export const testDatabaseAdminUrl: string = process.env.AIRLOCK_TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** The database's name: `airlock_<label>_<pid>_<random>`. */
  name: string;
  /** A connection URL for it (the admin URL with the database swapped). */
  url: string;
  /** Empties it: drops and re-creates the `public` schema, so the next store starts unmigrated. */
  reset(): Promise<void>;
  /** Drops it, ending any connection still open on it. Idempotent. */
  drop(): Promise<void>;
}

/** Makes a new, empty database. `label` (letters, digits, `_`) shows in its name, to tell whose it was. */
export async function createTestDatabase(label = "test"): Promise<TestDatabase> {
  const safe = label.toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 24);
  const name = `airlock_${safe}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await admin(testDatabaseAdminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(testDatabaseAdminUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | null = null;
  return {
    name,
    url: url.toString(),
    reset: () => admin(url.toString(), "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"),
    drop: () => (dropped ??= admin(testDatabaseAdminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot reach PostgreSQL for tests at ${redact(url)} (set AIRLOCK_TEST_DATABASE_URL): ${(err as Error).message}`, { cause: err });
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
