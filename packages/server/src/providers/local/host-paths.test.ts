import { afterAll, describe, expect, it } from "vitest";
import { AirlockError } from "@airlock/protocol";
import { hideHostPaths, withoutHostPaths } from "./host-paths.ts";
import { newId, spec, testProvider } from "./test-support.ts";

const layout = { dataDir: "/srv/air.lock", sandboxesDir: "/srv/air.lock/sandboxes" };

describe("host paths in messages", () => {
  it("become the paths the user knows: workspace-relative, ~ for the agent's home, none for the rest", () => {
    const said = (text: string) => hideHostPaths(text, layout);
    expect(said("ENAMETOOLONG: name too long, lstat '/srv/air.lock/sandboxes/ses_1/workspace/src/x.ts'")).toBe("ENAMETOOLONG: name too long, lstat 'src/x.ts'");
    expect(said("EACCES: permission denied, open '/srv/air.lock/sandboxes/ses_1/home/.claude/settings.json'")).toBe("EACCES: permission denied, open '~/.claude/settings.json'");
    expect(said("cannot read /srv/air.lock/sandboxes/ses_1/workspace")).toBe("cannot read the workspace");
    expect(said("no /srv/air.lock/sandboxes/ses_1/relay/config.json, and /srv/air.lock/airlock.db is locked")).toBe("no the sandbox's own files, and Airlock's data folder is locked");
    // A path that only starts like the data folder is another path.
    expect(said("see /srv/air.lockers/x")).toBe("see /srv/air.lockers/x");
  });

  it("keep an AirlockError's code (so its status), and drop a Node error's path-bearing fields", () => {
    const airlock = withoutHostPaths(new AirlockError("bad_request", "bad /srv/air.lock/sandboxes/s/workspace/a"), layout) as AirlockError;
    expect(AirlockError.is(airlock) && airlock.code).toBe("bad_request");
    expect(airlock.message).toBe("bad a");
    const node = Object.assign(new Error("ENOENT: no such file or directory, open '/srv/air.lock/x'"), { path: "/srv/air.lock/x" });
    const told = withoutHostPaths(node, layout) as Error;
    expect(told.message).toBe("ENOENT: no such file or directory, open 'Airlock's data folder'");
    expect(JSON.stringify({ ...told, stack: told.stack })).not.toContain("/srv/air.lock");
  });
});

describe("a local sandbox's failures", () => {
  const t = testProvider();
  afterAll(() => t.cleanup());

  it("never name the host's folders", async () => {
    // What the API refuses up front, given to the provider directly: each failure is said without host paths.
    const seeds = [{ ["n".repeat(300)]: "x" }, { a: "x", "a/b": "y" }, { [`deep/${"m".repeat(256)}/f`]: "x" }];
    for (const files of seeds) {
      const failure = await t.provider.create(spec(newId(), { seed: { files } })).then(() => null, (err: Error) => err);
      expect(failure, JSON.stringify(Object.keys(files))).toBeInstanceOf(Error);
      expect(failure!.message).not.toContain(t.base);
      expect(failure!.message).not.toMatch(/\/(sandboxes|workspace)\//);
    }
    const handle = await t.provider.create(spec(newId(), { seed: { files: { "ok.txt": "fine" } } }));
    for (const path of ["n".repeat(300), "ok.txt/below", "missing"]) {
      const failure = await handle.readWorkspace(path).then(() => null, (err: Error) => err);
      expect(failure!.message).not.toContain(t.base);
    }
    await handle.destroy();
  });
});
