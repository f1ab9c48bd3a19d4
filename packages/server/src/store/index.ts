/**
 * @module store — opens the configured store: embedded SQLite in the data folder, or PostgreSQL when
 * `DATABASE_URL` is a `postgres://` URL (several nodes on one database).
 *
 * @example
 * const store = await openStore({ dataDir: "./.airlock", databaseUrl: process.env.DATABASE_URL ?? null });
 * await store.migrate();
 */
import { join } from "node:path";
import { AirlockError, type StoreV1 } from "@airlock/protocol";
import { createPostgresStore } from "./postgres/store.ts";
import { createSqliteStore } from "./sqlite.ts";

export { createSqliteStore, type SqliteStoreOptions } from "./sqlite.ts";
export { createPostgresStore, type PostgresStoreOptions } from "./postgres/store.ts";
export { hashApiKey, newApiKey } from "./api-key.ts";

export interface StoreConfig {
  /** Where `airlock.db` lives when no `databaseUrl` is given. */
  dataDir: string;
  /** `DATABASE_URL`: `postgres://…` (or `postgresql://…`) for PostgreSQL; unset for SQLite. */
  databaseUrl: string | null;
  /** Background errors of the store (PostgreSQL: an idle connection lost), to log. */
  onError?: (error: unknown) => void;
}

export async function openStore(config: StoreConfig): Promise<StoreV1> {
  const url = config.databaseUrl?.trim();
  if (!url) return createSqliteStore({ path: join(config.dataDir, "airlock.db") });
  if (/^postgres(ql)?:\/\//i.test(url)) return createPostgresStore({ url, ...(config.onError ? { onError: config.onError } : {}) });
  // Refuse rather than ignore: a URL that is silently not used would put the data somewhere unexpected.
  throw new AirlockError("bad_request", `DATABASE_URL must be a postgres:// URL (or unset for SQLite); got "${url.split(":")[0]}:…"`);
}
