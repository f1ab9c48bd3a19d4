/**
 * @module api-key — the shape of API keys and their tenants, and the one-way hash stores keep instead of the key.
 *
 * Every key belongs to one tenant, and every query is scoped to it: keys of one tenant see and steer the same
 * sessions, keys of different tenants never see each other's. A key made without a tenant gets one of its own
 * (`tnt_…`), so two people given keys share nothing unless told to. `default` is the tenant of loopback
 * clients (no keys configured) and of plain `AIRLOCK_API_KEYS` entries, as before tenants could be named there.
 */
import { createHash, randomBytes } from "node:crypto";
import { newId } from "@airlock/protocol";

/** The tenant of loopback clients and of `AIRLOCK_API_KEYS` entries given without one. */
export const defaultTenant = "default";

/** Tenant names: what `--tenant` and `AIRLOCK_API_KEYS`'s `tenant:key` accept. */
export const tenantPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A tenant for a key that was given none: its own, shared with no other key. */
export const newTenant = (): string => newId("tenant");

export interface EnvApiKey {
  key: string;
  tenant: string;
  /** Written as a plain key, without `tenant:` (so in tenant `default`). */
  plain: boolean;
}

/**
 * `AIRLOCK_API_KEYS`: comma-separated entries, each `tenant:key` or a plain `key` (tenant `default`). The
 * tenant is what comes before the first `:`, so a key that itself holds a `:` must be given with its tenant.
 */
export function parseEnvApiKeys(value: string | undefined): EnvApiKey[] {
  const keys: EnvApiKey[] = [];
  for (const entry of (value ?? "").split(",").map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(":");
    if (colon < 0) {
      keys.push({ key: entry, tenant: defaultTenant, plain: true });
      continue;
    }
    const tenant = entry.slice(0, colon);
    const key = entry.slice(colon + 1).trim();
    if (!tenantPattern.test(tenant)) throw new Error(`AIRLOCK_API_KEYS: "${tenant}" is not a tenant name (letters, digits, '_', '.', '-'; up to 64); entries are "tenant:key" or a plain "key"`);
    if (!key) throw new Error(`AIRLOCK_API_KEYS: the entry for tenant "${tenant}" has no key after the ':'`);
    keys.push({ key, tenant, plain: false });
  }
  return keys;
}

/** A new key: `ak_` + 32 random bytes in base64url (43 characters). Shown once, never stored. */
export const newApiKey = (): string => `ak_${randomBytes(32).toString("base64url")}`;

/** Hex sha256 of the key. Keys carry 256 random bits, so a fast unsalted hash is enough to look them up. */
export const hashApiKey = (key: string): string => createHash("sha256").update(key).digest("hex");
