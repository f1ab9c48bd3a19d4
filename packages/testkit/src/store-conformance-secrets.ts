/**
 * @module store-conformance-secrets — tenant secrets: put (create or replace), list without values, get by
 * name, delete; each tenant sees only its own.
 */
import { describe, expect, it } from "vitest";
import type { StoreV1 } from "@airlock/protocol";

export function describeSecretCases(current: () => StoreV1): void {
  describe("secrets", () => {
    it("creates, replaces (keeping createdAt), lists without values, gets by name and deletes", async () => {
      const store = current();
      const made = await store.putSecret({ tenant: "t1", name: "B_TOKEN", value: "sealed-1", now: 1000 });
      expect(made).toEqual({ tenant: "t1", name: "B_TOKEN", value: "", createdAt: 1000, updatedAt: 1000 });
      await store.putSecret({ tenant: "t1", name: "A_KEY", value: "sealed-a", now: 1500 });
      const replaced = await store.putSecret({ tenant: "t1", name: "B_TOKEN", value: "sealed-2", now: 2000 });
      expect(replaced).toMatchObject({ createdAt: 1000, updatedAt: 2000 });

      const listed = await store.listSecrets("t1");
      expect(listed.map((s) => s.name)).toEqual(["A_KEY", "B_TOKEN"]);
      expect(listed.every((s) => s.value === "")).toBe(true);

      const got = await store.getSecrets("t1", ["B_TOKEN", "MISSING", "A_KEY"]);
      expect(Object.fromEntries(got.map((s) => [s.name, s.value]))).toEqual({ B_TOKEN: "sealed-2", A_KEY: "sealed-a" });
      expect(await store.getSecrets("t1", [])).toEqual([]);

      expect(await store.deleteSecret("t1", "B_TOKEN")).toBe(true);
      expect(await store.deleteSecret("t1", "B_TOKEN")).toBe(false);
      expect((await store.listSecrets("t1")).map((s) => s.name)).toEqual(["A_KEY"]);
    });

    it("keeps tenants apart: the same name in two tenants is two secrets", async () => {
      const store = current();
      await store.putSecret({ tenant: "t1", name: "TOKEN", value: "one", now: 1 });
      await store.putSecret({ tenant: "t2", name: "TOKEN", value: "two", now: 2 });
      expect((await store.getSecrets("t2", ["TOKEN"]))[0]?.value).toBe("two");
      expect(await store.deleteSecret("t3", "TOKEN")).toBe(false);
      expect(await store.deleteSecret("t1", "TOKEN")).toBe(true);
      expect((await store.getSecrets("t2", ["TOKEN"]))[0]?.value).toBe("two");
      expect(await store.listSecrets("t1")).toEqual([]);
    });
  });
}
