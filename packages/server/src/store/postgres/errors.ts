/**
 * @module postgres/errors — the one place where PostgreSQL's errors become `AirlockError`s callers can act on.
 * Anything not listed passes through unchanged (a bug, shown as a 500 with its cause logged).
 */
import { AirlockError } from "@airlock/protocol";

/** Connection errors of Node's sockets (no SQLSTATE: the server was never reached). */
const unreachable = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

/**
 * @param where the server as `host:port/database` (never the password), to name in messages.
 */
export function translatePgError(error: unknown, where: string): unknown {
  if (AirlockError.is(error)) return error;
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  const message = typeof e?.message === "string" ? e.message : String(error);
  const wrap = (kind: ConstructorParameters<typeof AirlockError>[0], text: string) => new AirlockError(kind, text, undefined, { cause: error });

  if (unreachable.has(code)) return wrap("unavailable", `cannot reach PostgreSQL at ${where} (DATABASE_URL): ${code}`);
  if (/timeout exceeded when trying to connect|Connection terminated/i.test(message)) {
    return wrap("unavailable", `PostgreSQL at ${where} (DATABASE_URL) did not answer: ${message}`);
  }
  switch (code) {
    case "23505": // unique_violation
      return wrap("conflict", "a record with this id already exists");
    case "23503": // foreign_key_violation: the session went away under the write
      return wrap("not_found", "the session no longer exists");
    case "22P05": // untranslatable_character: U+0000 in JSON that must be jsonb (metadata, options)
    case "22021": // character_not_in_repertoire
      return wrap("bad_request", `PostgreSQL cannot store this text (${message}); metadata, env and options must not contain U+0000`);
    case "28P01": // invalid_password
    case "28000": // invalid_authorization_specification
      return wrap("unavailable", `PostgreSQL at ${where} refused the login of DATABASE_URL: ${message}`);
    case "3D000": // invalid_catalog_name
      return wrap("unavailable", `PostgreSQL at ${where}: ${message}; create it or fix DATABASE_URL`);
    case "40001": // serialization_failure
    case "40P01": // deadlock_detected
    case "55P03": // lock_not_available
    case "57014": // query_canceled (statement timeout)
    case "25P03": // idle_in_transaction_session_timeout
      return wrap("unavailable", `the database could not complete this write in time (${code}); retry`);
    case "53300": // too_many_connections
    case "57P01": // admin_shutdown
    case "57P02": // crash_shutdown
    case "57P03": // cannot_connect_now
    case "08000":
    case "08003":
    case "08006":
      return wrap("unavailable", `PostgreSQL at ${where} (DATABASE_URL) is not available: ${message}`);
    case "53100": // disk_full
      return wrap("unavailable", `the database cannot take writes right now (${code}: ${message})`);
  }
  return error;
}

/** An error PostgreSQL answered with (a SQLSTATE): the connection is fine. Anything else may have broken it. */
export function isServerError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57|53)/.test(code);
}

/**
 * An error one batch's own data can cause (a value refused, an id that exists) or a transaction PostgreSQL chose
 * to abort (deadlock, serialization): running the batches of a group one by one isolates or retries it. A lost
 * connection is none of these: every batch would fail again.
 */
export function isBatchError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|23|40)[0-9A-Z]{3}$/.test(code);
}

/** `host:port/database` of a connection URL, for messages: never the user's password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || "5432"}${u.pathname || "/"}`;
  } catch {
    return "(unparsable DATABASE_URL)";
  }
}
