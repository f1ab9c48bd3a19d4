import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bwrapArgs, group, passwd } from "./bwrap.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-bwrap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sandbox(readOnlyPaths: string[] = []) {
  for (const sub of ["ws", "home", "etc"]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, "etc/passwd"), passwd);
  writeFileSync(join(dir, "etc/group"), group);
  return bwrapArgs({ workspace: join(dir, "ws"), home: join(dir, "home"), passwdFile: join(dir, "etc/passwd"), groupFile: join(dir, "etc/group"), readOnlyPaths });
}

const run = (args: string[], script: string) => spawnSync(args[0], [...args.slice(1), "node", "-e", script], { encoding: "utf8" });

describe("bwrapArgs", () => {
  it("drops capabilities, unshares every namespace, never binds / wholesale", () => {
    const args = sandbox();
    expect(args).toContain("--unshare-all");
    expect(args.join(" ")).toContain("--cap-drop ALL");
    expect(args.join(" ")).toContain("--uid 1000");
    expect(args.join(" ")).not.toMatch(/--(ro-)?bind \/ \//);
    expect(args.at(-1)).toBe("--");
  });

  it("keeps read-only paths under /tmp visible (the private /tmp is mounted first) and read-only", () => {
    const program = join(dir, "tool");
    mkdirSync(program, { recursive: true });
    writeFileSync(join(program, "hello.js"), "console.log('hello from ' + process.cwd())");
    const args = sandbox([program]);
    const ok = spawnSync(args[0], [...args.slice(1), "node", join(program, "hello.js")], { encoding: "utf8" });
    expect(ok.stdout.trim()).toBe("hello from /workspace");
    const write = run(args, `try { require('fs').writeFileSync(${JSON.stringify(join(program, "x"))}, 'x'); console.log('WROTE') } catch (e) { console.log(e.code) }`);
    expect(write.stdout.trim()).toBe("EROFS");
  });

  it("gives the agent uid 1000, a private /tmp and its own writable home", () => {
    const args = sandbox();
    const r = run(args, "const fs=require('fs'); fs.writeFileSync('/home/agent/x','1'); fs.writeFileSync('/tmp/y','1'); console.log(process.getuid(), fs.readdirSync('/tmp').join(','), require('os').hostname())");
    expect(r.stdout.trim()).toBe("1000 y airlock");
  });
});
