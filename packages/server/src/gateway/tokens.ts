/**
 * @module tokens — per-session gateway tokens: `gw_<sessionId>_<hmac>`. Stateless to verify; useless for any
 * other session; dead once their session is (the gateway checks the session on every call).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import { readOrCreate } from "../shared-file.ts";

export class GatewayTokens {
  constructor(private readonly secret: Buffer) {}

  /** The secret lives in the data folder, readable by Airlock alone. */
  static fromDataDir(dataDir: string): GatewayTokens {
    const secret = readOrCreate(join(dataDir, "gateway-secret"), () => randomBytes(32).toString("hex"));
    return new GatewayTokens(Buffer.from(secret, "hex"));
  }

  issue(sessionId: string): string {
    return `gw_${sessionId}_${this.mac(sessionId)}`;
  }

  /** The session a token belongs to, or null. */
  verify(token: string | undefined): string | null {
    const m = token?.match(/^gw_(ses_[0-9a-f]+)_([A-Za-z0-9_-]{43})$/);
    if (!m) return null;
    const expected = Buffer.from(this.mac(m[1]));
    const given = Buffer.from(m[2]);
    return expected.length === given.length && timingSafeEqual(expected, given) ? m[1] : null;
  }

  private mac(sessionId: string): string {
    return createHmac("sha256", this.secret).update(`gateway:${sessionId}`).digest("base64url");
  }
}
