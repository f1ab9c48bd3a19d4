/**
 * What a command in a local sandbox can reach, with the real wrap a started sandbox's relay uses (the same
 * one its `terminal/*` commands run under) and the agent's environment.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import type { SandboxHandle, SandboxdConfig } from "@airlock/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive } from "./host.ts";
import { type TestProvider, configOf, echoAgent, newId, node, processesWith, runInside, runnableWrap, spec, testProvider, waitUntil } from "./test-support.ts";

const t: TestProvider = testProvider();
const id = newId();
const planted = join(homedir(), `airlock-planted-${process.pid}.txt`);
let handle: SandboxHandle;
let config: SandboxdConfig;
let server: Server;
let port: number;

beforeAll(async () => {
  writeFileSync(planted, "top secret\n");
  writeFileSync(join(t.base, ".env"), "ANTHROPIC_API_KEY=sk-secret\n");
  handle = await t.provider.create(spec(id));
  await handle.startSandboxd({ ...echoAgent, env: { LD_PRELOAD: "/nonexistent/x.so", NODE_OPTIONS: "--max-old-space-size=300", MY_VAR: "1" } }, "tok");
  config = configOf(handle);
  server = createServer((s) => s.end("hello from the host\n"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  rmSync(planted, { force: true });
  server?.close();
  await handle?.destroy();
  t.cleanup();
});

/** Runs a Node script inside and returns its trimmed stdout (stderr on failure). */
const inside = (script: string) => {
  const r = runInside(config, node(script));
  return (r.stdout || r.stderr).trim();
};
const exists = (path: string) => `console.log(require('fs').existsSync(${JSON.stringify(path)}))`;

describe("local sandbox isolation", () => {
  it("runs node as uid 1000 in /workspace with its private home", () => {
    expect(inside("console.log(process.getuid(), process.getgid(), process.cwd(), process.env.HOME, require('os').hostname())")).toBe("1000 1000 /workspace /home/agent airlock");
  });

  it("hides the host's $HOME, ~/.ssh, the data folder and the .env beside it", () => {
    expect(existsSync(planted)).toBe(true);
    expect(inside(exists(planted))).toBe("false");
    expect(inside(exists(join(homedir(), ".ssh")))).toBe("false");
    expect(inside(exists(homedir()))).toBe("false");
    expect(inside(exists(t.dataDir))).toBe("false");
    expect(inside(exists(join(t.base, ".env")))).toBe("false");
    expect(inside(exists(handle.ref.data.dir as string))).toBe("false");
    // only what the runtime needs is there
    expect(inside("console.log(require('fs').readdirSync('/').sort().join(' '))").split(" ")).not.toContain("root");
  });

  it("confines writes: /usr and /etc refuse, /tmp is private, /workspace reaches the host folder", () => {
    const tryWrite = (path: string) => `try { require('fs').writeFileSync(${JSON.stringify(path)}, 'x'); console.log('WROTE') } catch (e) { console.log(e.code) }`;
    expect(inside(tryWrite("/usr/x"))).toBe("EROFS");
    expect(["EROFS", "EACCES"]).toContain(inside(tryWrite("/etc/x")));
    expect(["EROFS", "EACCES"]).toContain(inside(tryWrite("/x")));
    const name = `airlock-private-${process.pid}`;
    expect(inside(tryWrite(`/tmp/${name}`))).toBe("WROTE");
    expect(existsSync(`/tmp/${name}`)).toBe(false);
    expect(inside(tryWrite("/workspace/made-inside.txt"))).toBe("WROTE");
    expect(readdirSync(join(handle.ref.data.dir as string, "workspace"))).toContain("made-inside.txt");
  });

  it("cannot reach a port on the host's 127.0.0.1: only its own loopback exists", () => {
    const script = `const net = require('net'); console.log(Object.keys(require('os').networkInterfaces()).join(',')); net.connect(${port}, '127.0.0.1').on('connect', () => { console.log('CONNECTED'); process.exit() }).on('error', (e) => console.log(e.code))`;
    expect(inside(script)).toBe("lo\nECONNREFUSED");
  });

  it("keeps loader and Node variables away from the host-side programs, and gives them to the sandbox", () => {
    expect(config.agent.env.LD_PRELOAD).toBeUndefined();
    expect(config.agent.env.NODE_OPTIONS).toBeUndefined();
    // Set inside only, by bwrap (their values are not kept in the config file: put back as the relay has them).
    const inside = config.wrap.flatMap((arg, i) => (config.wrap[i - 1] === "--setenv" ? [arg] : []));
    expect(inside).toEqual(expect.arrayContaining(["LD_PRELOAD", "NODE_OPTIONS", "MY_VAR"]));
    const r = runInside(config, node("console.log(process.env.LD_PRELOAD, process.env.NODE_OPTIONS, process.env.MY_VAR)"), 20_000, { LD_PRELOAD: "/nonexistent/x.so", NODE_OPTIONS: "--max-old-space-size=300", MY_VAR: "1" });
    expect(r.stdout.trim()).toBe("/nonexistent/x.so --max-old-space-size=300 1");
  });

  it("leaves no process behind when the sandbox's first process is SIGKILLed", async () => {
    const marker = `airlock-orphan-${process.pid}`;
    const wait = `node -e "setTimeout(() => {}, 300000)" ${marker}`;
    // a child, a daemonized grandchild (reparented inside) and the main process
    const argv = [...runnableWrap(config), "sh", "-c", `${wait} & (${wait} &) ; exec ${wait}`];
    const proc = spawn(argv[0], argv.slice(1), { env: { PATH: "/usr/bin:/bin" }, stdio: "ignore" });
    await waitUntil(() => processesWith(marker, "node -e").length === 3, 10_000, "the three sandboxed node processes");
    const inner = processesWith(marker);
    expect(inner.length).toBeGreaterThan(3); // and bwrap's
    proc.kill("SIGKILL");
    await waitUntil(() => inner.filter(alive).length === 0, 5000, "every sandboxed process to go");
    expect(processesWith(marker)).toEqual([]);
  });

  it("destroy leaves nothing of the sandbox running", async () => {
    expect(processesWith(id).length).toBeGreaterThan(0);
    await handle.destroy();
    expect(processesWith(id)).toEqual([]);
  });
});
