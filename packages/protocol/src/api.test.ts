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

  it("checks mcpServers: a shape (command or url), a valid URL, unique names, a bounded count", () => {
    const mcp = (...servers: unknown[]) => issues({ agent: "x", mcpServers: servers });
    expect(mcp({ name: "fs", command: "node", args: ["s.mjs"], env: [{ name: "A", value: "1" }] }, { type: "http", name: "web", url: "https://h/mcp", headers: [{ name: "Authorization", value: "Bearer t" }] })).toEqual([]);
    expect(mcp({ name: "x" })).toEqual([expect.stringMatching(/^mcpServers\.0: give either `command`.*or `type`.*`url`/)]);
    expect(mcp({ name: "x", type: "http" })).toEqual([expect.stringMatching(/^mcpServers\.0\.url: /)]);
    expect(mcp({ name: "x", type: "http", url: "not a url" })).toEqual(["mcpServers.0.url: must be an absolute URL"]);
    expect(mcp({ name: "x", type: "sse", url: "ftp://h/x" })).toEqual(["mcpServers.0.url: must be an http:// or https:// URL"]);
    expect(mcp({ name: "x", command: "a", url: "http://h" })).toEqual(["mcpServers.0: give either `command` or `url`, not both"]);
    expect(mcp({ name: "a b", command: "a" })).toEqual([expect.stringMatching(/^mcpServers\.0\.name: must be 1-64 letters/)]);
    expect(mcp({ name: "x", command: "a" }, { name: "x", type: "http", url: "http://h" })).toEqual(['mcpServers.1.name: "x" is given twice; server names must be unique']);
    expect(mcp({ name: "x", type: "http", url: "http://h", headers: [{ name: "A", value: "v\r\nX: y" }] })).toEqual([expect.stringMatching(/^mcpServers\.0\.headers\.0\.value: /)]);
    expect(mcp(...Array.from({ length: limits.maxMcpServers + 1 }, (_, i) => ({ name: `s${i}`, command: "a" })))).toEqual([`mcpServers: at most ${limits.maxMcpServers} servers`]);
    expect(issues({ agent: "x", mcpServers: "nope" })).toEqual([expect.stringMatching(/^mcpServers: /)]);
  });
});
