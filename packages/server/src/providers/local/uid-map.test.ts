/**
 * The sandbox user on the host: with the server as root, uid 1000 inside is an unprivileged host uid, the files
 * the agent makes belong to it, and the server still reads them.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SandboxHandle, SandboxdConfig } from "@airlock/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestProvider, configOf, echoAgent, newId, node, runInside, spec, testProvider } from "./test-support.ts";
import { sandboxOwner } from "./uid-map.ts";

const root = process.getuid?.() === 0;

describe("sandboxOwner", () => {
  it("is null for a server that is not root, or with AIRLOCK_SANDBOX_UID=0", () => {
    expect(sandboxOwner({}, false)).toBeNull();
    expect(sandboxOwner({ AIRLOCK_SANDBOX_UID: "0" }, true)).toBeNull();
  });
  it("defaults to 100000, the gid to the uid, and refuses a uid that is not one", () => {
    expect(sandboxOwner({}, true)).toEqual({ uid: 100000, gid: 100000 });
    expect(sandboxOwner({ AIRLOCK_SANDBOX_UID: "2000", AIRLOCK_SANDBOX_GID: "3000" }, true)).toEqual({ uid: 2000, gid: 3000 });
    expect(() => sandboxOwner({ AIRLOCK_SANDBOX_UID: "-5" }, true)).toThrow(/AIRLOCK_SANDBOX_UID/);
  });
});

describe.skipIf(!root)("a local sandbox's user on the host (server as root)", () => {
  const t: TestProvider = testProvider({ sandboxOwner: { uid: 100123, gid: 100124 } });
  let handle: SandboxHandle;
  let config: SandboxdConfig;
  const dir = () => handle.ref.data.dir as string;

  beforeAll(async () => {
    handle = await t.provider.create(spec(newId(), { seed: { files: { "seeded.txt": "from the API\n" } } }));
    await handle.startSandboxd({ ...echoAgent, homeFiles: { ".config/x/settings.json": "{}" } }, "tok");
    config = configOf(handle);
  });
  afterAll(async () => {
    await handle?.destroy();
    t.cleanup();
  });

  it("shows uid 1000 inside, mapped to the unprivileged uid outside", () => {
    const r = runInside(config, ["sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; grep CapEff /proc/self/status"]);
    const lines = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).join(" "));
    expect(lines[0]).toBe("1000");
    expect(lines[1]).toBe("1000");
    expect(lines).toContain("1000 100123 1");
    expect(lines).toContain("1000 100124 1");
    expect(lines.at(-1)).toBe("CapEff: 0000000000000000");
  });

  it("makes the agent's files the unprivileged uid's on the host, readable by the server", () => {
    const r = runInside(config, node("require('fs').mkdirSync('/workspace/d'); require('fs').writeFileSync('/workspace/d/made.txt', 'hi'); require('fs').appendFileSync('/workspace/seeded.txt', 'and the agent\\n'); require('fs').writeFileSync('/home/agent/.config/x/settings.json', '{\"a\":1}'); console.log('ok')"));
    expect(r.stdout.trim()).toBe("ok");
    const made = statSync(join(dir(), "workspace", "d", "made.txt"));
    expect([made.uid, made.gid]).toEqual([100123, 100124]);
    expect(readFileSync(join(dir(), "workspace", "d", "made.txt"), "utf8")).toBe("hi");
    expect(readFileSync(join(dir(), "workspace", "seeded.txt"), "utf8")).toBe("from the API\nand the agent\n");
    expect(statSync(join(dir(), "workspace")).uid).toBe(100123);
  });

  it("cannot become root again inside", () => {
    const r = runInside(config, ["sh", "-c", "setpriv --reuid=0 true 2>&1 || echo REFUSED"]);
    expect(r.stdout).toContain("REFUSED");
  });
});
