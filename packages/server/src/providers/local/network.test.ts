/**
 * Sandboxes with `network: true`: outbound through slirp4netns, never the host's loopback. Here "outbound"
 * is a server on the host's own non-loopback address (the machine has no internet), which the sandbox
 * reaches the way it would reach any other machine.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxdClient } from "@airlock/sandboxd";
import { alive, cmdline, which } from "./host.ts";
import { type TestProvider, configOf, wrapOptions, echoAgent, newId, node, processesWith, runInsideAsync, spec, testProvider, tree, waitUntil } from "./test-support.ts";

const lan = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
const t: TestProvider = testProvider();
const servers: Server[] = [];
const listen = async (host: string) => {
  const server = createServer((s) => s.end("hello\n"));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  return (server.address() as { port: number }).port;
};
afterAll(() => {
  for (const s of servers) s.close();
  t.cleanup();
});

describe.skipIf(!which("slirp4netns") || process.getuid?.() !== 0)("local sandbox with network", () => {
  it("is offered when slirp4netns is installed", () => {
    expect(t.provider.capabilities.network).toBe(true);
  });

  it("reaches other machines but not the host's loopback, and leaves no slirp4netns behind", async () => {
    const id = newId();
    const handle = await t.provider.create(spec(id, { network: true }));
    try {
      const health = await new SandboxdClient(await handle.startSandboxd(echoAgent, "tok")).health();
      const config = configOf(handle);
      // Every process of the sandbox joins its one network namespace, which a holder keeps with slirp4netns beside it.
      expect(wrapOptions(config)).toContain("--share-net");
      expect(config.wrap.some((a) => a.startsWith("--net=/proc/"))).toBe(true);
      const holder = JSON.parse(readFileSync(join(config.stateDir, "netns.json"), "utf8")) as { pid: number };
      const loopbackPort = await listen("127.0.0.1");
      const probe = (host: string, port: number) =>
        `require('net').connect(${port}, '${host}').setTimeout(2000, function () { console.log('${host} TIMEOUT'); this.destroy() }).on('connect', () => { console.log('${host} CONNECTED'); process.exit() }).on('error', (e) => console.log('${host}', e.code))`;
      const script = [
        "console.log(Object.keys(require('os').networkInterfaces()).sort().join(','))",
        "console.log(require('fs').readFileSync('/etc/resolv.conf', 'utf8').trim())",
        probe("127.0.0.1", loopbackPort),
        probe("10.0.2.2", loopbackPort),
      ].join(";");
      const out = (await runInsideAsync(config, node(script))).stdout;
      expect(out).toContain("lo,tap0");
      expect(out).toContain("nameserver 10.0.2.3");
      expect(out).toMatch(/127\.0\.0\.1 ECONNREFUSED/);
      expect(out).toMatch(/10\.0\.2\.2 (ENETUNREACH|ECONNREFUSED|EHOSTUNREACH|TIMEOUT)/);
      expect(out).not.toContain("CONNECTED");
      if (lan) {
        const lanPort = await listen(lan);
        const reached = await runInsideAsync(config, node(probe(lan, lanPort)));
        expect(reached.stdout.trim(), `status ${reached.status}, stderr: ${reached.stderr}`).toBe(`${lan} CONNECTED`);
      }
      expect(health.ok).toBe(true);
      const slirps = tree(holder.pid).filter((pid) => cmdline(pid).includes("slirp4netns --configure"));
      expect(slirps.length).toBe(1);
      await handle.destroy();
      await waitUntil(() => slirps.filter(alive).length === 0, 5000, "slirp4netns to end");
      expect(processesWith(id)).toEqual([]);
    } finally {
      await handle.destroy();
    }
  });

  it.skipIf(!lan || !which("git"))("seeds the workspace with `git clone` run inside the sandbox", async () => {
    const repos = join(t.base, "repos");
    const src = join(repos, "project");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "README.md"), "cloned\n");
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", ...args], { cwd: src, stdio: "pipe" });
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "-m", "first");
    const port = 20000 + (process.pid % 20000);
    const daemon = spawn("git", ["daemon", "--export-all", `--base-path=${repos}`, `--listen=${lan}`, `--port=${port}`, "--reuseaddr", repos], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const id = newId();
      const steps: string[] = [];
      const handle = await t.provider.create(spec(id, { network: true, seed: { git: `git://${lan}:${port}/project` } }), (s) => steps.push(s));
      try {
        const dir = handle.ref.data.dir as string;
        expect(readdirSync(join(dir, "workspace")).sort()).toEqual([".git", "README.md"]);
        expect(steps).toEqual(["cloning the repository", "recording the workspace baseline"]);
        expect((await handle.diff()).diff).toBe("");
        writeFileSync(join(dir, "workspace", "README.md"), "changed\n");
        expect((await handle.diff()).diff).toContain("+changed");
      } finally {
        await handle.destroy();
      }
      // a URL it cannot reach fails the create with git's words, and leaves no folder
      const bad = newId();
      await expect(t.provider.create(spec(bad, { network: true, seed: { git: `git://127.0.0.1:${port}/project` } }))).rejects.toThrow(/could not clone/);
      expect(readdirSync(join(t.dataDir, "sandboxes"))).not.toContain(bad);
    } finally {
      daemon.kill("SIGKILL");
      await waitUntil(() => daemon.exitCode !== null || daemon.signalCode !== null, 3000, "git daemon to stop");
    }
  });
});
