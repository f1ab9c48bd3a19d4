/**
 * @module store — opens the configured store: embedded SQLite in the data folder unless `DATABASE_URL` says
 * otherwise.
 *
 * @example
 * const store = await openStore({ dataDir: "./.airlock", databaseUrl: process.env.DATABASE_URL ?? null });
 * await store.migrate();
 */
import { join } from "node:path";
import { AirlockError, type StoreV1 } from "@airlock/protocol";
import { createSqliteStore } from "./sqlite.ts";

export { createSqliteStore, type SqliteStoreOptions } from "./sqlite.ts";
export { hashApiKey, newApiKey } from "./api-key.ts";

export interface StoreConfig {
  /** Where `airlock.db` lives when no `databaseUrl` is given. */
  dataDir: string;
  /** `DATABASE_URL`; `postgres://…` is reserved for the PostgreSQL store. */
  databaseUrl: string | null;
}

export async function openStore(config: StoreConfig): Promise<StoreV1> {
  const url = config.databaseUrl?.trim();
  if (!url) return createSqliteStore({ path: join(config.dataDir, "airlock.db") });
  if (/^postgres(ql)?:\/\//i.test(url)) {
    throw new AirlockError(
      "unavailable",
      "DATABASE_URL points at PostgreSQL, which this version of Airlock does not support yet; unset DATABASE_URL to use the embedded SQLite store",
    );
  }
  // Refuse rather than ignore: a URL that is silently not used would put the data somewhere unexpected.
  throw new AirlockError("bad_request", `DATABASE_URL must be a postgres:// URL (or unset for SQLite); got "${url.split(":")[0]}:…"`);
}
