import { describe, expect, it } from "vitest";
import { parseEnvApiKeys } from "./api-key.ts";

describe("AIRLOCK_API_KEYS", () => {
  it("takes tenant:key pairs and plain keys (tenant default); the tenant ends at the first ':'", () => {
    expect(parseEnvApiKeys(" k1 , acme:k2,acme:k:with:colons,,")).toEqual([
      { key: "k1", tenant: "default", plain: true },
      { key: "k2", tenant: "acme", plain: false },
      { key: "k:with:colons", tenant: "acme", plain: false },
    ]);
    expect(parseEnvApiKeys(undefined)).toEqual([]);
  });

  it("refuses a malformed tenant or a missing key, naming the entry", () => {
    expect(() => parseEnvApiKeys("bad tenant:k")).toThrow(/"bad tenant" is not a tenant name/);
    expect(() => parseEnvApiKeys(":k")).toThrow(/"" is not a tenant name/);
    expect(() => parseEnvApiKeys("acme:")).toThrow(/tenant "acme" has no key/);
  });
});
