import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { projectContext } from "./context.ts";

const dirs: string[] = [];
const temp = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `agent-context-${name}-`));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("project context", () => {
  it("summarises tree, manifests, README head and git status, leaving big folders closed", async () => {
    const root = temp("ws");
    mkdirSync(join(root, "src/deep/deeper/deepest"), { recursive: true });
    mkdirSync(join(root, "node_modules/left-pad"), { recursive: true });
    writeFileSync(join(root, "node_modules/left-pad/index.js"), "");
    writeFileSync(join(root, "src/deep/deeper/deepest/hidden.ts"), "");
    writeFileSync(join(root, "src/main.ts"), "console.log(1)\n");
    writeFileSync(join(root, "package.json"), '{"name":"ctx-demo"}\n');
    writeFileSync(join(root, "README.md"), Array.from({ length: 100 }, (_, i) => `readme line ${i + 1}`).join("\n"));
    execFileSync("git", ["init", "-q", "-b", "main"], { cwd: root });
    const { text } = await projectContext(root, null);
    expect(text).toContain("node_modules/ …");
    expect(text).not.toContain("left-pad");
    expect(text).toContain("main.ts (15 B)");
    expect(text).toContain("deeper/ …");
    expect(text).not.toContain("hidden.ts");
    expect(text).toContain('{"name":"ctx-demo"}');
    expect(text).toContain("readme line 40");
    expect(text).not.toContain("readme line 41");
    expect(text).toContain("## git status");
    expect(text).toContain("?? package.json");
  });

  it("puts the tree and the manifests in code blocks, so they keep their lines wherever Markdown is shown", async () => {
    const root = temp("ws");
    mkdirSync(join(root, "src/lib"), { recursive: true });
    writeFileSync(join(root, "src/lib/util.ts"), "");
    writeFileSync(join(root, "odd ```name.txt"), "");
    writeFileSync(join(root, "package.json"), '{"description":"has ``` inside"}\n');
    const { text } = await projectContext(root, null);
    const tree = text.match(/## Files[^\n]*\n\n(`{3,})\n([\s\S]*?)\n\1\n/);
    expect(tree?.[1]).toBe("````");
    expect(tree?.[2].split("\n")).toEqual(expect.arrayContaining([expect.stringMatching(/^src\/$/), expect.stringMatching(/^ +lib\/$/), expect.stringMatching(/^ +util\.ts/)]));
    expect(text).toMatch(/## package\.json\n\n````\n\{"description":"has ``` inside"\}\n````/);
  });

  it("is cached by fingerprint: reused while nothing changed, made anew after a change or on request", async () => {
    const root = temp("ws");
    const cache = temp("cache");
    writeFileSync(join(root, "a.txt"), "a");
    const first = await projectContext(root, cache);
    expect(first.regenerated).toBe(true);
    const again = await projectContext(root, cache);
    expect(again).toEqual({ ...first, regenerated: false });
    expect((await projectContext(root, cache, true)).regenerated).toBe(true);
    writeFileSync(join(root, "a.txt"), "changed");
    utimesSync(join(root, "a.txt"), new Date(), new Date(Date.now() + 5000));
    const changed = await projectContext(root, cache);
    expect(changed.regenerated).toBe(true);
    expect(changed.fingerprint).not.toBe(first.fingerprint);
    writeFileSync(join(root, "b.txt"), "b");
    expect((await projectContext(root, cache)).text).toContain("b.txt");
  });
});
