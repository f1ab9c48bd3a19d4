/**
 * The fake E2B driven by the real `e2b` SDK: control API, commands, files, ports, pause/resume, timeouts,
 * errors. Each behaviour asserted here is one the E2B provider relies on.
 */
import { request } from "node:http";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { AuthenticationError, CommandExitError, RateLimitError, Sandbox, SandboxError, SandboxNotFoundError } from "e2b";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeE2B, startFakeE2B } from "../src/fake-e2b/index.ts";

const canRun = process.getuid?.() === 0;
let fake: FakeE2B;
let opts: { apiKey: string; apiUrl: string; sandboxUrl: string };

beforeAll(async () => {
  if (!canRun) return;
  fake = await startFakeE2B({ maxSandboxes: 4, templates: { tools: { files: { "/opt/tools/VERSION": "7\n" } } } });
  opts = { apiKey: fake.apiKey, apiUrl: fake.apiUrl, sandboxUrl: fake.sandboxUrl };
});
afterAll(async () => {
  await fake?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `done` holds of its value (a loaded machine may be slow to run a sandbox's loop). */
async function eventually<T>(read: () => T, done: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await sleep(20);
  }
}

function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe.skipIf(!canRun)("fake E2B through the real SDK", () => {
  it("creates from a template with metadata and env vars, and runs commands as user or root", async () => {
    const sbx = await Sandbox.create("tools", { ...opts, metadata: { owner: "t1" }, envs: { FROM_CREATE: "c" }, timeoutMs: 60_000 });
    try {
      const r = await sbx.commands.run('echo "$FROM_CREATE $PER_RUN $HOME $(id -un) $(pwd)"; cat /opt/tools/VERSION; echo oops >&2', { envs: { PER_RUN: "r" } });
      expect(r.stdout).toBe("c r /home/user user /home/user\n7\n");
      expect(r.stderr).toBe("oops\n");
      expect((await sbx.commands.run("id -u; pwd", { user: "root", cwd: "/tmp" })).stdout).toBe("0\n/tmp\n");
      const failed = await sbx.commands.run("echo partial; exit 3").catch((e) => e);
      expect(failed).toBeInstanceOf(CommandExitError);
      expect([failed.exitCode, failed.stdout]).toEqual([3, "partial\n"]);
      const missingCwd = await sbx.commands.run("true", { cwd: "/nowhere" }).catch((e) => e);
      expect(missingCwd).toBeInstanceOf(SandboxError);
      expect(String(missingCwd.message)).toMatch(/cwd '\/nowhere' does not exist/);
      expect(fake.sandbox(sbx.sandboxId)?.metadata).toEqual({ owner: "t1" });
    } finally {
      await sbx.kill();
    }
  });

  it("kills a background command at the SDK's default timeout unless timeoutMs is 0; it outlives its stream", async () => {
    const sbx = await Sandbox.create({ ...opts });
    try {
      const limited = await sbx.commands.run("sleep 30", { background: true, timeoutMs: 800 });
      const unlimited = await sbx.commands.run("sleep 30", { background: true, timeoutMs: 0 });
      await unlimited.disconnect();
      // envd kills it at the deadline; the SDK's stream gives up at the same moment
      const ended = await limited.wait().catch((e) => e);
      expect(ended.name).toBe("TimeoutError");
      await sleep(100);
      const pids = (await sbx.commands.list()).map((p) => p.pid);
      expect(pids).toContain(unlimited.pid);
      expect(pids).not.toContain(limited.pid);
      // stdin, and re-attaching to a running command's new output
      const cat = await sbx.commands.run("cat", { background: true, stdin: true, timeoutMs: 0 });
      await cat.disconnect();
      let seen = "";
      const again = await sbx.commands.connect(cat.pid, { onStdout: (d) => void (seen += d), timeoutMs: 0 });
      await sbx.commands.sendStdin(cat.pid, "hello\n");
      for (let i = 0; i < 100 && !seen; i++) await sleep(20);
      expect(seen).toBe("hello\n");
      expect(await sbx.commands.kill(cat.pid)).toBe(true);
      await again.wait().catch(() => {});
      expect(await sbx.commands.kill(cat.pid)).toBe(false);
    } finally {
      await sbx.kill();
    }
  });

  it("uploads, downloads, lists, moves and removes files; relative paths are in the user's home", async () => {
    const sbx = await Sandbox.create({ ...opts });
    try {
      await sbx.files.write("notes/a.txt", "alpha");
      await sbx.files.write([
        { path: "/srv/x/one.txt", data: "1" },
        { path: "/srv/x/two.bin", data: new Uint8Array([0, 1, 2]).buffer },
      ], { user: "root" });
      expect(await sbx.files.read("/home/user/notes/a.txt")).toBe("alpha");
      expect([...(await sbx.files.read("/srv/x/two.bin", { format: "bytes" }))]).toEqual([0, 1, 2]);
      const host = join(fake.sandbox(sbx.sandboxId)!.root, "home/user/notes/a.txt");
      expect(statSync(host).uid).toBe(1000);
      expect((await sbx.files.list("/srv/x")).map((e) => [e.name, e.type, e.size])).toEqual([["one.txt", "file", 1], ["two.bin", "file", 3]]);
      expect((await sbx.files.list("/srv", { depth: 2 })).map((e) => e.path)).toEqual(["/srv/x", "/srv/x/one.txt", "/srv/x/two.bin"]);
      expect(await sbx.files.makeDir("/srv/y")).toBe(true);
      expect(await sbx.files.makeDir("/srv/y")).toBe(false);
      expect((await sbx.files.rename("/srv/x/one.txt", "/srv/y/1.txt")).path).toBe("/srv/y/1.txt");
      await sbx.files.remove("/srv/x");
      expect(await sbx.files.exists("/srv/x")).toBe(false);
      expect((await sbx.files.getInfo("/srv/y/1.txt")).type).toBe("file");
      expect(await sbx.files.read("/nope").catch((e) => e.name)).toBe("FileNotFoundError");
      // what a command writes is what the file service reads
      await sbx.commands.run("printf made > /tmp/by-command");
      expect(await sbx.files.read("/tmp/by-command")).toBe("made");
    } finally {
      await sbx.kill();
    }
  });

  it("pauses with processes frozen in place, lists by metadata and state, and resumes on connect", async () => {
    const sbx = await Sandbox.create({ ...opts, metadata: { airlock: "pause-test", note: "a b&c=d" } });
    try {
      await (await sbx.commands.run("i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.02; done", { background: true, timeoutMs: 0 })).disconnect();
      const countFile = join(fake.sandbox(sbx.sandboxId)!.root, "tmp/count");
      const count = () => {
        try {
          return Number(readFileSync(countFile, "utf8")) || 0;
        } catch {
          return 0;
        }
      };
      await eventually(count, (n) => n >= 3, "the loop's count before the pause");
      await sbx.pause();
      const list = (q: object) => Sandbox.list({ ...opts, query: q }).nextItems();
      expect((await list({ metadata: { airlock: "pause-test" } })).map((s) => [s.sandboxId, s.state])).toEqual([[sbx.sandboxId, "paused"]]);
      expect(await list({ metadata: { airlock: "pause-test" }, state: ["running"] })).toEqual([]);
      expect((await list({ metadata: { note: "a b&c=d" } })).map((s) => s.sandboxId)).toEqual([sbx.sandboxId]);
      expect(await list({ metadata: { note: "a b" } })).toEqual([]);
      const frozen = readFileSync(countFile, "utf8");
      await sleep(200);
      expect(readFileSync(countFile, "utf8")).toBe(frozen);
      // a paused sandbox is unreachable; envd answers again once resumed
      expect(await sbx.commands.run("true").catch((e) => e)).toBeInstanceOf(SandboxNotFoundError);
      const resumed = await Sandbox.connect(sbx.sandboxId, opts);
      const after = Number((await resumed.commands.run("cat /tmp/count")).stdout);
      expect(after).toBeGreaterThanOrEqual(Number(frozen));
      await eventually(count, (n) => n > after, "the loop's count after the resume");
    } finally {
      await sbx.kill();
    }
  });

  it("expires on its timeout: paused with lifecycle onTimeout 'pause', killed otherwise", async () => {
    // Created with time to spare (a loaded machine may take a second to create one), then set to run out.
    const pausing = await Sandbox.create({ ...opts, timeoutMs: 60_000, lifecycle: { onTimeout: "pause" } });
    const dying = await Sandbox.create({ ...opts, timeoutMs: 60_000 });
    await Promise.all([pausing.setTimeout(1000), dying.setTimeout(1000)]);
    await sleep(1500);
    expect(fake.sandbox(pausing.sandboxId)?.state).toBe("paused");
    expect(fake.sandbox(dying.sandboxId)?.state).toBe("killed");
    expect(fake.sandbox(dying.sandboxId)?.processCount).toBe(0);
    expect(await Sandbox.connect(dying.sandboxId, opts).catch((e) => e)).toBeInstanceOf(SandboxNotFoundError);
    await Sandbox.kill(pausing.sandboxId, opts);
    expect(await Sandbox.kill(pausing.sandboxId, opts)).toBe(false);
  });

  it("proxies sandbox ports by routing headers or by host, and answers 502 when paused", async () => {
    const sbx = await Sandbox.create({ ...opts, network: { allowPublicTraffic: false } });
    try {
      const server = "require('http').createServer((q,s)=>s.end('from '+q.url)).listen(0,'0.0.0.0',function(){require('fs').writeFileSync('/tmp/port',String(this.address().port))})";
      await (await sbx.commands.run(`node -e "${server}"`, { background: true, timeoutMs: 0 })).disconnect();
      let port = 0;
      for (let i = 0; i < 100 && !port; i++) port = Number(await sbx.files.read("/tmp/port").catch(() => "0")) || (await sleep(30), 0);
      const routing = { "E2b-Sandbox-Id": sbx.sandboxId, "E2b-Sandbox-Port": String(port) };
      expect((await get(`${fake.sandboxUrl}/hi`, routing)).status).toBe(403);
      const token = { "e2b-traffic-access-token": sbx.trafficAccessToken! };
      expect(await get(`${fake.sandboxUrl}/hi`, { ...routing, ...token })).toEqual({ status: 200, body: "from /hi" });
      // getHost(port) names the sandbox and port in the host, as on E2B
      const host = sbx.getHost(port);
      expect(host.startsWith(`${port}-${sbx.sandboxId}.`)).toBe(true);
      expect(await get(`${fake.sandboxUrl}/via-host`, { host, ...token })).toEqual({ status: 200, body: "from /via-host" });
      expect((await get(`${fake.sandboxUrl}/`, { ...routing, ...token, "E2b-Sandbox-Port": "1" })).status).toBe(502);
      await sbx.pause();
      expect((await get(`${fake.sandboxUrl}/hi`, { ...routing, ...token })).status).toBe(502);
    } finally {
      await sbx.kill();
    }
  });

  it("answers with E2B's errors: wrong key, unknown template, quota, injected faults", async () => {
    expect(await Sandbox.create({ ...opts, apiKey: "e2b_wrong" }).catch((e) => e)).toBeInstanceOf(AuthenticationError);
    const missing = await Sandbox.create("no-such-template", opts).catch((e) => e);
    expect(missing).toBeInstanceOf(SandboxError);
    expect([missing.statusCode, missing.message]).toEqual([404, "404: template 'no-such-template' not found"]);
    fake.fail({ route: "create", status: 429 });
    expect(await Sandbox.create(opts).catch((e) => e)).toBeInstanceOf(RateLimitError);
    const made = await Promise.all([0, 1, 2, 3].map(() => Sandbox.create(opts)));
    const over = await Sandbox.create(opts).catch((e) => e);
    expect(over).toBeInstanceOf(RateLimitError);
    expect(over.message).toMatch(/maximum number of concurrent E2B sandboxes \(4\)/);
    await Promise.all(made.map((s) => s.kill()));
    expect(fake.calls.some((c) => c.route === "kill")).toBe(true);
  });
});
