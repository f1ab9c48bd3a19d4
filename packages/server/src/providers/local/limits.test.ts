/**
 * Limits with the real kernel: cgroups where writable (here: v1, as root), prlimit otherwise. Never an
 * address-space limit.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SandboxHandle, SandboxdConfig } from "@airlock/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxdClient } from "@airlock/sandboxd";
import { bwrapArgs, etcFiles } from "./bwrap.ts";
import { which } from "./host.ts";
import { cgroupDirs, cgroupPids, cgroupVersion, createCgroups, defaultLimits, limitPrefix, removeCgroups, sweepCgroups } from "./limits.ts";
import { type TestProvider, configOf, echoAgent, newId, node, runInside, spec, testProvider, waitUntil } from "./test-support.ts";

const withCgroups = cgroupVersion() !== null;

describe("limitPrefix", () => {
  it("joins the cgroups in a shell, then prlimit; the process count only without cgroups; never --as", () => {
    const limits = { ...defaultLimits, cpuSeconds: 60 };
    const withGroups = limitPrefix(["/cg/memory/cgroup.procs", "/cg/pids/cgroup.procs"], limits, "/usr/bin/prlimit");
    expect(withGroups.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(withGroups.slice(4, 7)).toEqual(["2", "/cg/memory/cgroup.procs", "/cg/pids/cgroup.procs"]);
    expect(withGroups.slice(7)).toEqual(["/usr/bin/prlimit", "--nofile=8192", `--fsize=${1024 ** 3}`, "--cpu=60", "--"]);
    const without = limitPrefix([], defaultLimits, "/usr/bin/prlimit");
    expect(without).toEqual(["/usr/bin/prlimit", "--nofile=8192", `--fsize=${1024 ** 3}`, "--nproc=512", "--"]);
    expect([...withGroups, ...without].some((a) => a.startsWith("--as"))).toBe(false);
    expect(limitPrefix([], defaultLimits, null)).toEqual([]);
  });
});

describe("prlimit without cgroups (real)", () => {
  const dir = mkdtempSync(join(tmpdir(), "airlock-prlimit-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!which("prlimit"))("applies open files, file size and CPU time; Node still starts (no address-space limit)", () => {
    for (const sub of ["ws", "home", "etc"]) mkdirSync(join(dir, sub));
    for (const [name, content] of Object.entries(etcFiles(false))) writeFileSync(join(dir, "etc", name), content);
    const wrap = [
      ...limitPrefix([], { ...defaultLimits, openFiles: 100, fileSizeMb: 1, cpuSeconds: 30 }, which("prlimit")),
      ...bwrapArgs({ workspace: join(dir, "ws"), home: join(dir, "home"), etcDir: join(dir, "etc"), readOnlyPaths: [] }),
    ];
    const script = "const l = require('fs').readFileSync('/proc/self/limits', 'utf8'); const v = (n) => l.split('\\n').find((x) => x.startsWith(n)).split(/\\s{2,}/)[1]; console.log(v('Max open files'), v('Max file size'), v('Max cpu time'), v('Max address space')); try { require('fs').writeFileSync('/workspace/big', Buffer.alloc(2 * 1024 * 1024)); console.log('WROTE') } catch (e) { console.log(e.code) }";
    const r = spawnSync(wrap[0], [...wrap.slice(1), ...node(script)], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
    expect(r.stdout.trim().split("\n")).toEqual([`100 ${1024 * 1024} 30 unlimited`, "EFBIG"]);
  });
});

describe.skipIf(!withCgroups)("cgroups (real)", () => {
  let t: TestProvider;
  let handle: SandboxHandle;
  let config: SandboxdConfig;
  const id = newId();
  beforeAll(async () => {
    t = testProvider({ resources: { memoryMb: 96, pids: 48 } });
    handle = await t.provider.create(spec(id));
    await handle.startSandboxd(echoAgent, "tok");
    config = configOf(handle);
  });
  afterAll(async () => {
    await handle?.destroy();
    t?.cleanup();
  });

  it("makes airlock/<session> groups with the memory and process limits, the agent in them", async () => {
    const dirs = cgroupDirs(id);
    expect(dirs.length).toBeGreaterThan(0);
    const files = dirs.flatMap((d) => ["memory.limit_in_bytes", "memory.max", "pids.max"].map((f) => join(d, f)).filter(existsSync));
    const values = Object.fromEntries(files.map((f) => [f.split("/").at(-1), readFileSync(f, "utf8").trim()]));
    expect(values["memory.limit_in_bytes"] ?? values["memory.max"]).toBe(String(96 * 1024 * 1024));
    expect(values["pids.max"]).toBe("48");
    const agentPid = (await new SandboxdClient((await handle.findSandboxd("tok"))!).health()).agentPid!;
    expect(cgroupPids(id)).toContain(agentPid);
    // v1 with its CPU hierarchy: the agent's CPU group is the session's, under the one airlock/ group (on v2 the
    // session's one group is also its CPU group).
    if (existsSync("/sys/fs/cgroup/cpu/cpu.shares")) {
      const cpuGroup = readFileSync(`/proc/${agentPid}/cgroup`, "utf8").split("\n").find((l) => /^\d+:([^:]*,)?cpu(,[^:]*)?:/.test(l));
      expect(cpuGroup).toMatch(new RegExp(`:/airlock/${id}$`));
    }
    for (const dir of dirs) expect(readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n"), dir).toContain(String(agentPid));
  });

  it("kills a process that goes over the memory limit", () => {
    const r = runInside(config, node("const keep = []; for (let i = 0; i < 64; i++) keep.push(Buffer.alloc(8 * 1024 * 1024, 1)); console.log('SURVIVED')"));
    expect(r.stdout).not.toContain("SURVIVED");
    // bwrap reports a child killed by a signal as 128 + the signal number
    expect(r.status ?? r.signal).toBe(128 + 9);
  });

  it("refuses forks past the process limit", () => {
    const r = runInside(config, ["sh", "-c", "n=0; while [ $n -lt 80 ]; do sleep 3 & n=$((n+1)); done; wait; echo DONE"]);
    expect(r.stderr).toMatch(/fork|Resource temporarily unavailable/i);
  });

  it("a command started later (a terminal's) joins the same groups", async () => {
    const proc = spawn(config.wrap[0], [...config.wrap.slice(1), "sleep", "60"], { env: config.agent.env, stdio: "ignore" });
    try {
      // Generous: on a loaded machine bwrap takes seconds to start, and the command must still be running when looked for.
      await waitUntil(() => cgroupPids(id).includes(proc.pid!), 30_000, "the command in the session's cgroups");
    } finally {
      proc.kill("SIGKILL");
    }
  });

  it("removes the groups (killing what is left in them) and sweeps abandoned empty ones", async () => {
    const other = newId();
    const made = createCgroups(other, defaultLimits);
    expect(made.length).toBeGreaterThan(0);
    sweepCgroups((name) => name !== other, undefined, 60_000);
    expect(cgroupDirs(other).every(existsSync)).toBe(true); // too young
    sweepCgroups((name) => name !== other, undefined, 0);
    expect(cgroupDirs(other).some(existsSync)).toBe(false);

    const again = newId();
    createCgroups(again, defaultLimits);
    expect(await removeCgroups(again)).toBe(true);
    expect(cgroupDirs(again).some(existsSync)).toBe(false);
  });
});
