import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SearchInput, globToRegExp, ripgrep, scan } from "./find.ts";
import { which } from "./walk.ts";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "agent-find-"));
  const files: Record<string, string | Buffer> = {
    "src/app.ts": "const token = 1;\nexport function run() {\n  return Token;\n}\n",
    "src/lib/util.py": "def token():\n    return 'x'\n",
    "README.md": "Tokens are described here.\n",
    "node_modules/dep/index.js": "token everywhere\n",
    ".hidden/conf.ts": "token = 2\n",
    "image.bin": Buffer.from([0x74, 0x6f, 0x6b, 0x65, 0x6e, 0, 1, 2]),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), content);
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const never = new AbortController().signal;

describe("search", () => {
  const cases: SearchInput[] = [
    { pattern: "token" },
    { pattern: "token", ignore_case: true },
    { pattern: "token", glob: "*.ts" },
    { pattern: "^def ", path: "src" },
    { pattern: "return", glob: "src/**/*.py" },
  ];

  it("scans like ripgrep: same matches, dependency folders and binary files skipped", async () => {
    const expected = [
      [".hidden/conf.ts:1:token = 2", "src/app.ts:1:const token = 1;", "src/lib/util.py:1:def token():"],
      [".hidden/conf.ts:1:token = 2", "README.md:1:Tokens are described here.", "src/app.ts:1:const token = 1;", "src/app.ts:3:  return Token;", "src/lib/util.py:1:def token():"],
      [".hidden/conf.ts:1:token = 2", "src/app.ts:1:const token = 1;"],
      ["src/lib/util.py:1:def token():"],
      ["src/lib/util.py:2:    return 'x'"],
    ];
    for (const [i, input] of cases.entries()) {
      const target = input.path ?? ".";
      expect((await scan(root, target, input, 100, never)).lines, JSON.stringify(input)).toEqual(expected[i]);
    }
    const rg = which("rg");
    if (!rg) return;
    for (const [i, input] of cases.entries()) expect((await ripgrep(rg, root, input.path ?? ".", input, 100, never)).lines, `rg ${JSON.stringify(input)}`).toEqual(expected[i]);
  });

  it("stops at max_results and says there is more", async () => {
    expect(await scan(root, ".", { pattern: "token", ignore_case: true }, 2, never)).toMatchObject({ more: true, lines: [expect.any(String), expect.any(String)] });
    const rg = which("rg");
    if (rg) expect((await ripgrep(rg, root, ".", { pattern: "token", ignore_case: true }, 2, never)).more).toBe(true);
  });

  it("rejects an invalid regular expression clearly", async () => {
    await expect(scan(root, ".", { pattern: "(" }, 10, never)).rejects.toThrow("not a valid regular expression");
  });

  it("turns globs into path patterns", () => {
    expect(globToRegExp("*.ts").test("app.ts")).toBe(true);
    expect(globToRegExp("*.ts").test("src/app.ts")).toBe(false);
    expect(globToRegExp("src/**/*.py").test("src/a/b/c.py")).toBe(true);
    expect(globToRegExp("src/**/*.py").test("src/c.py")).toBe(true);
    expect(globToRegExp("*.{js,ts}").test("x.js")).toBe(true);
    expect(globToRegExp("file?.txt").test("file1.txt")).toBe(true);
  });
});
