/**
 * @module store — opens the configured store: SQLite in the data folder, or PostgreSQL for `postgres://` URLs.
 */
import { join } from "node:path";
import { AirlockError, type StoreV1 } from "@airlock/protocol";
import { createSqliteStore } from "./sqlite.ts";

export { createSqliteStore };

export async function openStore(options: { dataDir: string; databaseUrl: string | null }): Promise<StoreV1> {
  if (options.databaseUrl && /^postgres(ql)?:\/\//.test(options.databaseUrl)) {
    throw new AirlockError("unavailable", "DATABASE_URL points at PostgreSQL, which this version does not support yet; unset it to use the embedded SQLite store");
  }
  return createSqliteStore({ path: join(options.dataDir, "airlock.db") });
}
