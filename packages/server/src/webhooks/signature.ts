/**
 * @module signature — the `Airlock-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
 * keyed with the webhook's secret (Stripe's scheme). The timestamp is signed with the body, so a receiver that
 * refuses old timestamps refuses replays of a captured delivery.
 *
 * @example
 * const header = signatureHeader(secret, body);
 * verifySignature(secret, body, header); // true
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const signatureHeaderName = "Airlock-Signature";

/** A new signing secret: `whsec_` and 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

export function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return `t=${timestamp},v1=${sign(secret, timestamp, body)}`;
}

/**
 * True when `header` signs `body` with `secret` and its timestamp is within `toleranceSec` of `nowSec` (either
 * way: clocks differ). Compared in constant time.
 */
export function verifySignature(secret: string, body: string, header: string | null | undefined, toleranceSec = 300, nowSec = Math.floor(Date.now() / 1000)): boolean {
  if (!header) return false;
  const parts = new Map<string, string[]>();
  for (const item of header.split(",")) {
    const i = item.indexOf("=");
    if (i > 0) parts.set(item.slice(0, i).trim(), [...(parts.get(item.slice(0, i).trim()) ?? []), item.slice(i + 1).trim()]);
  }
  const t = Number(parts.get("t")?.[0]);
  if (!Number.isInteger(t) || Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = Buffer.from(sign(secret, t, body), "hex");
  return (parts.get("v1") ?? []).some((v) => /^[0-9a-f]{64}$/.test(v) && timingSafeEqual(Buffer.from(v, "hex"), expected));
}
