/**
 * The host relay: the local sandboxes of an installation relayed by one sandboxd process, each with its own
 * socket, token, journal and agent; one sandbox's end leaves the others (and the process) alone.
 */
import { afterAll, describe, expect, it } from "vitest";
import { SandboxdClient } from "@airlock/sandboxd";
import { sandboxdPath } from "@airlock/sandboxd";
import { alive, kill } from "./host.ts";
import { createLocalProvider } from "./index.ts";
import { type TestProvider, echoAgent, newId, processesWith, spec, testProvider, waitUntil } from "./test-support.ts";

const t: TestProvider = testProvider({ sharedRelay: true });
const hosts = new Set<number>();
afterAll(() => {
  for (const pid of hosts) kill(pid);
  t.cleanup();
});

describe("the host relay", () => {
  it("relays several sandboxes from one process, each on its own token, and one's end leaves the others running", async () => {
    const [a, b] = [newId(), newId()];
    const ha = await t.provider.create(spec(a));
    const hb = await t.provider.create(spec(b));
    const ca = new SandboxdClient(await ha.startSandboxd(echoAgent, `tok-${a}`));
    const cb = new SandboxdClient(await hb.startSandboxd(echoAgent, `tok-${b}`));
    const [healthA, healthB] = await Promise.all([ca.health(), cb.health()]);
    hosts.add(healthA.pid);
    expect(healthA.pid).toBe(healthB.pid);
    expect(healthA.agentPid).not.toBe(healthB.agentPid);
    expect([healthA.agentRunning, healthB.agentRunning]).toEqual([true, true]);
    expect(await ha.findSandboxd(`tok-${b}`)).toBeNull();

    await ha.destroy();
    expect(processesWith(a)).toEqual([]);
    expect(alive(healthA.pid)).toBe(true);
    await cb.send({ jsonrpc: "2.0", method: "still-there" });
    const echoed = async () => (await cb.read(0, 100)).some((r) => r.kind === "agent" && JSON.stringify(r.msg).includes("still-there"));
    for (const until = Date.now() + 10_000; !(await echoed()); ) {
      if (Date.now() > until) throw new Error("b's agent did not echo");
      await new Promise((r) => setTimeout(r, 50));
    }

    // A new provider object (a restarted control plane) finds b in the same process.
    const again = createLocalProvider({ dataDir: t.dataDir, sandboxdPath, installationId: "inst_test", sharedRelay: true });
    const found = await (await again.connect(hb.ref))!.findSandboxd(`tok-${b}`);
    expect((await new SandboxdClient(found!).health()).pid).toBe(healthB.pid);
    await hb.destroy();
    expect(processesWith(b)).toEqual([]);
  });

  it("after the host relay dies, its sandboxes' agents are gone and a new start brings up a new host that continues the journal", async () => {
    const id = newId();
    const handle = await t.provider.create(spec(id));
    const client = new SandboxdClient(await handle.startSandboxd(echoAgent, `tok-${id}`));
    const before = await client.health();
    hosts.add(before.pid);
    await client.send({ jsonrpc: "2.0", method: "one" });
    kill(before.pid);
    await waitUntil(() => !alive(before.pid) && !alive(before.agentPid!), 10_000, "host and agent gone");
    expect(await handle.findSandboxd(`tok-${id}`)).toBeNull();

    const after = await new SandboxdClient(await handle.startSandboxd(echoAgent, `tok-${id}`)).health();
    hosts.add(after.pid);
    expect(after.pid).not.toBe(before.pid);
    expect(after.agentRunning).toBe(true);
    expect(after.lastSeq).toBeGreaterThan(before.lastSeq);
    await handle.destroy();
    expect(processesWith(id)).toEqual([]);
  });

  it("is started once when several nodes on one data folder start sandboxes at the same moment", async () => {
    // The running host goes first, so that every node finds none and races to start it.
    const running = t.provider;
    const probe = newId();
    const h = await running.create(spec(probe));
    const first = await new SandboxdClient(await h.startSandboxd(echoAgent, `tok-${probe}`)).health();
    await h.destroy();
    kill(first.pid);
    await waitUntil(() => !alive(first.pid), 10_000, "the first host gone");

    const nodes = [0, 1, 2].map(() => createLocalProvider({ dataDir: t.dataDir, sandboxdPath, installationId: "inst_test", sharedRelay: true }));
    const ids = [newId(), newId(), newId(), newId(), newId(), newId()];
    const handles = await Promise.all(ids.map((id, i) => nodes[i % 3].create(spec(id))));
    const healths = await Promise.all(handles.map(async (handle, i) => new SandboxdClient(await handle.startSandboxd(echoAgent, `tok-${ids[i]}`)).health()));
    for (const h of healths) hosts.add(h.pid);
    expect(new Set(healths.map((h) => h.pid)).size).toBe(1);
    expect(healths.every((h) => h.agentRunning)).toBe(true);
    // Every node finds every sandbox in that one host.
    for (const [i, handle] of handles.entries()) expect(await (await nodes[(i + 1) % 3].connect(handle.ref))!.findSandboxd(`tok-${ids[i]}`)).not.toBeNull();
    await Promise.all(handles.map((handle) => handle.destroy()));
  });
});
