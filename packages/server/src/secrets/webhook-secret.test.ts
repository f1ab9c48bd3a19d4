/**
 * Webhook signing secrets at rest: sealed and bound to their webhook; one stored in clear by an earlier version
 * still signs.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { StoreV1 } from "@airlock/protocol";
import { SecretBox, Secrets } from "./index.ts";

const secrets = new Secrets({} as StoreV1, new SecretBox(randomBytes(32)));

describe("webhook signing secrets", () => {
  it("are stored sealed, open only for their own webhook, and a clear one from before is used as it is", () => {
    const plain = "whsec_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
    const sealed = secrets.sealWebhookSecret("webhook_a", plain);
    expect(sealed).not.toContain(plain);
    expect(secrets.openWebhookSecret("webhook_a", sealed)).toBe(plain);
    expect(() => secrets.openWebhookSecret("webhook_b", sealed)).toThrow();
    expect(secrets.openWebhookSecret("webhook_a", plain)).toBe(plain);
  });
});
