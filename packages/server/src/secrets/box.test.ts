import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecretBox, parseKey } from "./box.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "airlock-box-"));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("SecretBox", () => {
  it("seals with a fresh IV each time and opens only in the same context", () => {
    const box = SecretBox.fromEnv("a".repeat(64), tempDir());
    const one = box.seal("hunter2", "secret:t1:A");
    expect(one).not.toContain("hunter2");
    expect(box.seal("hunter2", "secret:t1:A")).not.toBe(one);
    expect(box.open(one, "secret:t1:A")).toBe("hunter2");
    expect(() => box.open(one, "secret:t2:A")).toThrow(/does not open/);
    const tampered = one.slice(0, -2) + (one.endsWith("A") ? "B" : "A") + one.slice(-1);
    expect(() => box.open(tampered, "secret:t1:A")).toThrow();
  });

  it("says plainly when a value was sealed with another key", () => {
    const sealed = SecretBox.fromEnv("a".repeat(64), tempDir()).seal("x", "c");
    expect(() => SecretBox.fromEnv("b".repeat(64), tempDir()).open(sealed, "c")).toThrow(/another key.*AIRLOCK_SECRET_KEY/);
  });

  it("makes a key in the data folder (mode 0600) on the first start and reads it on the next", () => {
    const dir = tempDir();
    const first = SecretBox.fromEnv(undefined, dir);
    expect(statSync(join(dir, "secret-key")).mode & 0o777).toBe(0o600);
    expect(parseKey(readFileSync(join(dir, "secret-key"), "utf8").trim(), "file")).toHaveLength(32);
    const again = SecretBox.fromEnv("", dir);
    expect(again.keyId).toBe(first.keyId);
    expect(again.open(first.seal("v", "c"), "c")).toBe("v");
  });

  it("takes a key as hex or base64 and refuses anything else, naming the setting", () => {
    const bytes = Buffer.alloc(32, 7);
    expect(parseKey(bytes.toString("hex"), "K")).toEqual(bytes);
    expect(parseKey(bytes.toString("base64"), "K")).toEqual(bytes);
    expect(parseKey(bytes.toString("base64url"), "K")).toEqual(bytes);
    expect(() => SecretBox.fromEnv("too-short", tempDir())).toThrow(/AIRLOCK_SECRET_KEY must be 32 bytes/);
    expect(() => parseKey("ab".repeat(16), "K")).toThrow(/K must be 32 bytes/);
  });
});
