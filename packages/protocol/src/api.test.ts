import { describe, expect, it } from "vitest";
import { CreateSession, limits, seedPathProblem } from "./api.ts";

const issues = (body: unknown) => {
  const r = CreateSession.safeParse(body);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("seed file paths", () => {
  it("accept relative paths of plain names", () => {
    for (const ok of ["a", "a.txt", "src/deep/b.ts", ".env", "..hidden", "a..b", "日本/ファイル.md", "n".repeat(255), `${"d/".repeat(300)}f`]) expect(seedPathProblem(ok), ok).toBeNull();
  });

  it("refuse what could not be written as a file of the workspace, saying why", () => {
    const cases: Array<[string, RegExp]> = [
      ["", /empty/],
      [".", /no '\.' or '\.\.'/],
      ["./a", /no '\.' or '\.\.'/],
      ["a/.", /no '\.' or '\.\.'/],
      ["..", /no '\.' or '\.\.'/],
      ["a/../../b", /no '\.' or '\.\.'/],
      ["..\\b", /no '\.' or '\.\.'/],
      ["/etc/passwd", /relative/],
      ["a//b", /empty name/],
      ["a/", /empty name/],
      ["a\0b", /NUL/],
      ["n".repeat(256), /longer than 255 bytes/],
      ["é".repeat(128), /longer than 255 bytes/],
      ["a/".repeat(600) + "b", /longer than 1024 bytes/],
    ];
    for (const [path, why] of cases) expect(seedPathProblem(path), JSON.stringify(path)).toMatch(why);
  });
});

describe("CreateSession", () => {
  it("names the field of each problem", () => {
    expect(issues({ agent: "x", workspace: { files: { ".": "x" } } })).toEqual([expect.stringMatching(/^workspace\.files\.\.: must be a path inside/)]);
    expect(issues({ agent: "x", workspace: { files: { a: "x", "a/b": "y", "a/b/c": "z" } } })).toEqual([
      expect.stringMatching(/^workspace\.files\.a\/b: needs "a" to be a folder/),
      expect.stringMatching(/^workspace\.files\.a\/b\/c: needs "a" to be a folder/),
      expect.stringMatching(/^workspace\.files\.a\/b\/c: needs "a\/b" to be a folder/),
    ]);
    expect(issues({ agent: "x", env: { A: "x\0y" } })).toEqual(["env.A: must not contain a NUL character"]);
    expect(issues({ agent: "x", command: ["node", "a\0b"] })).toEqual(["command.1: must not contain a NUL character"]);
    expect(issues({ agent: "x", command: [""] })).toEqual([expect.stringMatching(/^command: the program/)]);
    expect(issues({ agent: "x", model: "m\0" })).toEqual(["model: must not contain a NUL character"]);
    expect(issues({ agent: "x", metadata: { "": "v" } })).toEqual([expect.stringMatching(/^metadata/)]);
  });

  it("enforces maxEnvVars, the environment's size and maxMetadataKeys", () => {
    const many = (n: number, value = "v") => Object.fromEntries(Array.from({ length: n }, (_, i) => [`K${i}`, value]));
    expect(issues({ agent: "x", env: many(limits.maxEnvVars) })).toEqual([]);
    expect(issues({ agent: "x", env: many(limits.maxEnvVars + 1) })).toEqual([`env: at most ${limits.maxEnvVars} variables`]);
    expect(issues({ agent: "x", env: many(10, "x".repeat(30_000)) })).toEqual([expect.stringMatching(/^env: names and values together are limited/)]);
    expect(issues({ agent: "x", metadata: many(limits.maxMetadataKeys) })).toEqual([]);
    expect(issues({ agent: "x", metadata: many(limits.maxMetadataKeys + 1) })).toEqual([`metadata: at most ${limits.maxMetadataKeys} keys`]);
  });
});
