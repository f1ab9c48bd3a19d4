/**
 * The local provider end to end with the real relay: create, start, find, restart, destroy; nothing left
 * behind (no process, no folder, no cgroup).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SandboxdClient } from "@airlock/sandboxd";
import { cgroupDirs, cgroupVersion } from "./limits.ts";
import { alive } from "./host.ts";
import { type TestProvider, configOf, wrapOptions, echoAgent, newId, processesWith, spec, testProvider, tree, waitUntil } from "./test-support.ts";

const t: TestProvider = testProvider();
afterAll(() => t.cleanup());

describe("local provider lifecycle", () => {
  it("creates, starts the relay and agent, finds them, and destroy leaves nothing", async () => {
    const id = newId();
    const steps: string[] = [];
    const handle = await t.provider.create(spec(id, { seed: { files: { "README.md": "hello\n" } } }), (s) => steps.push(s));
    expect(steps).toEqual(["writing workspace files", "recording the workspace baseline"]);
    const dir = join(t.dataDir, "sandboxes", id);
    expect(handle.ref).toEqual({ provider: "local", id, data: { dir } });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(join(dir, "labels.json"), "utf8"))).toEqual(spec(id).labels);
    expect(await handle.readWorkspace("README.md")).toMatchObject({ content: "hello\n" });

    const token = "tok-" + id;
    const endpoint = await handle.startSandboxd({ ...echoAgent, homeFiles: { ".config/agent.json": "{}" } }, token);
    expect(endpoint.socketPath).toBe(join(dir, "relay", "sandboxd.sock"));
    expect(readFileSync(join(dir, "home", ".config/agent.json"), "utf8")).toBe("{}");
    const client = new SandboxdClient(endpoint);
    const health = await client.health();
    expect(health.agentRunning).toBe(true);

    // The relay's config keeps no variable's value once the relay runs (they may be secrets); the names the
    // sandbox gets are the ones asked for (no server variable), set from nothing.
    const config = configOf(handle);
    expect(config.agent.env).toEqual({});
    const names = config.wrap.flatMap((arg, i) => (config.wrap[i - 1] === "--setenv" ? [arg] : []));
    expect(names.sort()).toEqual(["AIRLOCK_SANDBOX", "HOME", "LANG", "LOGNAME", "PATH", "PWD", "TMPDIR", "USER"]);
    expect(config.wrap).toContain("--clearenv");
    expect(wrapOptions(config).join(" ")).toContain("--unshare-all");
    expect(config.cgroupProcs).toEqual(cgroupDirs(id).map((d) => join(d, "cgroup.procs")));
    if (cgroupVersion()) expect(config.cgroupProcs!.length).toBeGreaterThan(0);

    await client.send({ jsonrpc: "2.0", method: "ping", params: {} });
    await waitUntil(() => readFileSync(join(dir, "relay", "journal.ndjson"), "utf8").includes('"method":"echo"'), 5000, "the agent's echo");

    // found again (a restarted server), only with its own token
    expect(await handle.findSandboxd(token)).toEqual(endpoint);
    expect(await handle.findSandboxd("wrong")).toBeNull();
    const again = await t.provider.connect(handle.ref);
    expect(await again!.findSandboxd(token)).toEqual(endpoint);
    // a retried start reuses the running relay instead of starting a second one on the same journal
    expect(await handle.startSandboxd(echoAgent, token)).toEqual(endpoint);
    expect((await client.health()).pid).toBe(health.pid);
    expect(await t.provider.list({ "airlock.session": id })).toEqual([handle.ref]);
    expect(await t.provider.list({ "airlock.session": "other" })).toEqual([]);

    const pids = tree(health.pid);
    expect(pids).toContain(health.agentPid);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    await handle.destroy();
    expect(pids.filter(alive)).toEqual([]);
    expect(processesWith(id)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    for (const d of cgroupDirs(id)) expect(existsSync(d), d).toBe(false);
    await handle.destroy(); // idempotent
    expect(await t.provider.connect(handle.ref)).toBeNull();
    expect(await handle.findSandboxd(token)).toBeNull();
  });

  it("starts the agent again in the kept sandbox after a shutdown; the journal goes on", async () => {
    const id = newId();
    const handle = await t.provider.create(spec(id));
    const token = "tok-" + id;
    const first = new SandboxdClient(await handle.startSandboxd(echoAgent, token));
    await first.send({ jsonrpc: "2.0", method: "one" });
    const seq = (await first.health()).lastSeq;
    await first.shutdown();
    // at once: the old relay still lingers (its exit record unread) and is stopped before the new one starts
    const second = new SandboxdClient(await handle.startSandboxd(echoAgent, token));
    const health = await second.health();
    expect(health.agentRunning).toBe(true);
    expect(health.lastSeq).toBeGreaterThan(seq);
    await handle.destroy();
    expect(processesWith(id)).toEqual([]);
  });

  it("when the relay is SIGKILLed its agent goes too; find says null and destroy still cleans up", async () => {
    const id = newId();
    const handle = await t.provider.create(spec(id));
    const token = "tok-" + id;
    const health = await new SandboxdClient(await handle.startSandboxd(echoAgent, token)).health();
    const pids = tree(health.pid);
    process.kill(health.pid, "SIGKILL");
    await waitUntil(() => pids.filter(alive).length === 0, 5000, "the sandbox's processes to go");
    expect(await handle.findSandboxd(token)).toBeNull();
    await handle.destroy();
    expect(existsSync(handle.ref.data.dir as string)).toBe(false);
  });

  it("fails a start with the relay's log when the relay cannot run, and refuses bad ids and seeds", async () => {
    const id = newId();
    const handle = await t.provider.create(spec(id));
    const broken = testProvider({ sandboxdPath: join(t.base, "sandboxd.js") });
    writeFileSync(join(t.base, "sandboxd.js"), "require('fs').appendFileSync(require('path').join(require(process.argv[2]).stateDir, 'sandboxd.log'), 'boom: cannot listen\\n'); process.exit(3)");
    try {
      const h = await broken.provider.connect({ ...handle.ref });
      expect(h).toBeNull(); // another data folder
      const own = await broken.provider.create(spec(id));
      await expect(own.startSandboxd(echoAgent, "t")).rejects.toThrow(/exited at start[\s\S]*boom: cannot listen/);
      await own.destroy();
    } finally {
      broken.cleanup();
    }
    await expect(t.provider.create(spec(id))).rejects.toMatchObject({ code: "conflict" });
    await expect(t.provider.create(spec("../../etc"))).rejects.toMatchObject({ code: "bad_request" });
    expect(await t.provider.connect({ provider: "local", id: "../..", data: {} })).toBeNull();
    await expect(t.provider.create(spec(newId(), { seed: { files: { "../escape": "x" } } }))).rejects.toMatchObject({ code: "bad_request" });
    await expect(t.provider.create(spec(newId(), { seed: { git: "https://example.com/x.git" } }))).rejects.toThrow(/network/);
    await handle.destroy();
  });
});
