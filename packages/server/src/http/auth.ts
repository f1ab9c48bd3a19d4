/**
 * @module auth — bearer API keys (`AIRLOCK_API_KEYS` or keys made with `airlock keys create`), each scoped to
 * its tenant (see store/api-key.ts). With no key configured only loopback clients are accepted.
 *
 * `?access_token=` is taken on one route only, `GET /v1/sessions/:id/events`, because a browser's EventSource
 * cannot send headers. Anywhere else a key in the URL is refused rather than used: URLs end up in proxy and
 * access logs, and a client that puts its key there should learn so on its first call, not from a leak.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { StoreV1 } from "@airlock/protocol";
import { type EnvApiKey, defaultTenant } from "../store/api-key.ts";
import { errorResponse } from "./errors.ts";

export type AuthVars = { tenant: string; principal: string };

/** The one route that takes `?access_token=`. */
const eventStream = /^\/v1\/sessions\/[^/]+\/events\/?$/;

export function auth(store: StoreV1, envKeys: EnvApiKey[]): MiddlewareHandler<{ Variables: AuthVars }> {
  const envHashes = envKeys.map((k) => ({ hash: hash(k.key), tenant: k.tenant }));
  let storedKeys = { any: false, checkedAt: 0 };
  const anyKeys = async () => {
    if (envKeys.length) return true;
    if (Date.now() - storedKeys.checkedAt > 2000) storedKeys = { any: (await store.listApiKeys()).length > 0, checkedAt: Date.now() };
    return storedKeys.any;
  };

  return async function authenticate(c, next) {
    const queryToken = c.req.query("access_token");
    if (queryToken !== undefined && !(c.req.method === "GET" && eventStream.test(c.req.path))) {
      return errorResponse(c, 401, "unauthorized", "?access_token= is accepted only on GET /v1/sessions/:id/events (for EventSource); send the key as `Authorization: Bearer <key>`");
    }
    const header = c.req.header("authorization");
    const token = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? queryToken;
    if (token) {
      const h = hash(token);
      const envKey = envHashes.find((k) => timingSafeEqual(k.hash, h));
      if (envKey) {
        c.set("tenant", envKey.tenant);
        c.set("principal", "env-key");
        return next();
      }
      const record = await store.findApiKey(token);
      if (!record) return errorResponse(c, 401, "unauthorized", "invalid API key");
      c.set("tenant", record.tenant);
      c.set("principal", record.id);
      return next();
    }
    if (await anyKeys()) return errorResponse(c, 401, "unauthorized", "missing API key: send `Authorization: Bearer <key>` (or `?access_token=` on GET …/events for EventSource)");
    if (!isLoopback(getConnInfo(c).remote.address)) {
      return errorResponse(c, 401, "unauthorized", "no API keys are configured, so only loopback clients are accepted; set AIRLOCK_API_KEYS or run `npm run airlock -- keys create`");
    }
    c.set("tenant", defaultTenant);
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
