/**
 * @module box — seals and opens values with AES-256-GCM (node:crypto), for what Airlock must keep but never
 * store in clear: tenant secrets and sessions' env values.
 *
 * A sealed value is `v1.<key id>.<base64url of iv | tag | ciphertext>`. The key id (the first bytes of the key's
 * SHA-256) lets a node holding another key say so plainly instead of failing on a bad tag. Each value is bound to
 * where it belongs (`context`, as GCM's additional data: `secret:<tenant>:<name>`, `env:<session>:<name>`), so a
 * sealed value copied into another row, tenant or session does not open.
 *
 * The key comes from `AIRLOCK_SECRET_KEY` (32 bytes, base64 or hex). Unset, a key is made on the first start and
 * kept in the data folder (`secret-key`, mode 0600). Nodes sharing one PostgreSQL must share the key.
 *
 * @example
 * const box = SecretBox.fromEnv(process.env.AIRLOCK_SECRET_KEY, "./.airlock");
 * const sealed = box.seal("s3cret", "secret:tnt_1:TOKEN");
 * box.open(sealed, "secret:tnt_1:TOKEN"); // "s3cret"
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AirlockError } from "@airlock/protocol";

const ivBytes = 12;
const tagBytes = 16;

export class SecretBox {
  /** Names the key in sealed values: 8 hex digits of its SHA-256 (not enough to learn anything of the key). */
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error(`a secret key must be 32 bytes, got ${key.length}`);
    this.keyId = createHash("sha256").update(key).digest("hex").slice(0, 8);
  }

  /** The key from `AIRLOCK_SECRET_KEY`, else the data folder's `secret-key`, made on the first start. */
  static fromEnv(value: string | undefined, dataDir: string): SecretBox {
    if (value?.trim()) return new SecretBox(parseKey(value.trim(), "AIRLOCK_SECRET_KEY"));
    const file = join(dataDir, "secret-key");
    let text: string | null = null;
    try {
      text = readFileSync(file, "utf8").trim();
    } catch {}
    if (text) return new SecretBox(parseKey(text, file));
    const key = randomBytes(32);
    // wx: two processes starting on one new data folder cannot both write a key (the loser reads the winner's).
    try {
      writeFileSync(file, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
    } catch {
      return new SecretBox(parseKey(readFileSync(file, "utf8").trim(), file));
    }
    return new SecretBox(key);
  }

  /** True when `value` has the form of a sealed value (and not, say, one stored in clear by an earlier version). */
  static isSealed(value: string): boolean {
    return value.startsWith("v1.");
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return `v1.${this.keyId}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
  }

  open(sealed: string, context: string): string {
    const [version, keyId, data] = sealed.split(".");
    if (version !== "v1" || !keyId || data === undefined) throw new AirlockError("internal", "a stored secret is not in a known sealed format");
    if (keyId !== this.keyId) {
      throw new AirlockError(
        "internal",
        `a stored secret was sealed with another key (key id ${keyId}; this server's is ${this.keyId}): every node must have the same AIRLOCK_SECRET_KEY`,
      );
    }
    const raw = Buffer.from(data, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, ivBytes));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(ivBytes, ivBytes + tagBytes));
    try {
      return Buffer.concat([decipher.update(raw.subarray(ivBytes + tagBytes)), decipher.final()]).toString("utf8");
    } catch (cause) {
      throw new AirlockError("internal", "a stored secret does not open with this key (altered, or stored for another tenant or session)", undefined, { cause });
    }
  }
}

/** 32 bytes given as 64 hex digits or as base64 (standard or URL-safe). */
export function parseKey(text: string, source: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, "hex") : /^[A-Za-z0-9+/_-]{43}=?$/.test(text) ? Buffer.from(text, "base64") : null;
  if (!key || key.length !== 32) {
    throw new Error(`${source} must be 32 bytes written as 64 hex digits or as base64 (e.g. the output of \`openssl rand -base64 32\`)`);
  }
  return key;
}
