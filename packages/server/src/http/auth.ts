/**
 * @module auth — bearer API keys (`AIRLOCK_API_KEYS` or keys made with `airlock keys create`);
 * `?access_token=` for EventSource. With no key configured only loopback clients are accepted.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { StoreV1 } from "@airlock/protocol";
import { errorResponse } from "./errors.ts";

export type AuthVars = { tenant: string; principal: string };

export function auth(store: StoreV1, envKeys: string[]): MiddlewareHandler<{ Variables: AuthVars }> {
  const envHashes = envKeys.map(hash);
  let storedKeys = { any: false, checkedAt: 0 };
  const anyKeys = async () => {
    if (envKeys.length) return true;
    if (Date.now() - storedKeys.checkedAt > 2000) storedKeys = { any: (await store.listApiKeys()).length > 0, checkedAt: Date.now() };
    return storedKeys.any;
  };

  return async function authenticate(c, next) {
    const header = c.req.header("authorization");
    const token = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? c.req.query("access_token");
    if (token) {
      const h = hash(token);
      if (envHashes.some((k) => timingSafeEqual(k, h))) {
        c.set("tenant", "default");
        c.set("principal", "env-key");
        return next();
      }
      const record = await store.findApiKey(token);
      if (!record) return errorResponse(c, 401, "unauthorized", "invalid API key");
      c.set("tenant", record.tenant);
      c.set("principal", record.id);
      return next();
    }
    if (await anyKeys()) return errorResponse(c, 401, "unauthorized", "missing API key: send `Authorization: Bearer <key>` (or `?access_token=` for EventSource)");
    if (!isLoopback(getConnInfo(c).remote.address)) {
      return errorResponse(c, 401, "unauthorized", "no API keys are configured, so only loopback clients are accepted; set AIRLOCK_API_KEYS or run `npm run airlock -- keys create`");
    }
    c.set("tenant", "default");
    c.set("principal", "loopback");
    return next();
  };
}

function hash(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}
