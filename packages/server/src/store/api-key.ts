/**
 * @module api-key — the shape of API keys and the one-way hash stores keep instead of the key.
 */
import { createHash, randomBytes } from "node:crypto";

/** A new key: `ak_` + 32 random bytes in base64url (43 characters). Shown once, never stored. */
export const newApiKey = (): string => `ak_${randomBytes(32).toString("base64url")}`;

/** Hex sha256 of the key. Keys carry 256 random bits, so a fast unsalted hash is enough to look them up. */
export const hashApiKey = (key: string): string => createHash("sha256").update(key).digest("hex");
