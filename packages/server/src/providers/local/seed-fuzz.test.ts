/**
 * Fuzz of what `POST /v1/sessions` accepts against what then really works: every seed and env the schema
 * accepts must be written into a real workspace and handed to a real process without an error, so nothing is
 * accepted (201) only to fail the session afterwards. Seeded, so a failure reproduces.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CreateSession } from "@airlock/protocol";
import { seededRandom } from "@airlock/testkit";
import { seedFiles } from "./workspace.ts";

const root = mkdtempSync(join(tmpdir(), "airlock-seed-fuzz-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const pieces = ["a", "b", "src", ".", "..", "/", "/", "\\", "\0", "é", "日本", " ", "\n", "-", "~", ":", "*", "n".repeat(100), "x".repeat(200), "%2e%2e", "\u202e", "\uFEFF", "😀"];

describe("what the API accepts, works", () => {
  it("every accepted seed is written to a real workspace", () => {
    const next = seededRandom(17);
    const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
    const name = () => Array.from({ length: 1 + Math.floor(next() * 8) }, () => pick(pieces)).join("");
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const paths = Array.from({ length: 1 + Math.floor(next() * 4) }, name);
      // Some maps hold a path and a path below it: a file that would also have to be a folder.
      if (next() < 0.2) paths.push(`${paths[0]}/${name()}`);
      const files = Object.fromEntries(paths.map((p) => [p, "content"]));
      const parsed = CreateSession.safeParse({ agent: "scripted", workspace: { files } });
      if (!parsed.success) {
        refused++;
        continue;
      }
      accepted++;
      const ws = join(root, String(i));
      mkdirSync(ws);
      expect(() => seedFiles(ws, parsed.data.workspace!.files!), JSON.stringify(Object.keys(files))).not.toThrow();
      rmSync(ws, { recursive: true, force: true });
    }
    // Both sides were really tried.
    expect(accepted).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });

  it("every accepted env and command reaches a real process", () => {
    const next = seededRandom(29);
    const values = ["", "plain", "é日本😀", "\n", "=", "a=b", "x".repeat(32 * 1024), "y".repeat(20_000)];
    const bad = ["x\0y", "\0"];
    const value = () => {
      const list = next() < 0.01 ? bad : values;
      return list[Math.floor(next() * list.length)];
    };
    let accepted = 0;
    for (let i = 0; i < 300; i++) {
      const count = Math.floor(next() * 120);
      const env = Object.fromEntries(Array.from({ length: count }, (_, k) => [`V${k}`, value()]));
      const command = ["/usr/bin/env", next() < 0.1 ? "a\0b" : value()];
      const parsed = CreateSession.safeParse({ agent: "custom", env, command });
      if (!parsed.success) continue;
      accepted++;
      const run = spawnSync(command[0], ["--", "true", parsed.data.command![1]], { env: { PATH: "/usr/bin:/bin", ...parsed.data.env } });
      expect(run.error, `${count} variables`).toBeUndefined();
    }
    expect(accepted).toBeGreaterThan(10);
  });
});
