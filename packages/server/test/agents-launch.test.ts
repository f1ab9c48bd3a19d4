/**
 * Codex and Gemini CLI, the real programs from npm, launched in a real local sandbox: they answer ACP
 * `initialize`, and without credentials `session/new` fails with a clean error instead of hanging.
 * Through the API they are listed as unavailable, saying why and how to fix it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { codex, gemini } from "../src/agents/registry.ts";
import { bwrapArgs, group, passwd } from "../src/providers/local/bwrap.ts";
import { removeDir, startServer } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-agents-launch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function launchInSandbox(definition: typeof codex): { proc: ChildProcess; rpc(id: number, method: string, params: unknown): Promise<any> } {
  const root = join(dir, definition.name);
  for (const sub of ["ws", "home", "etc"]) mkdirSync(join(root, sub), { recursive: true });
  writeFileSync(join(root, "etc/passwd"), passwd);
  writeFileSync(join(root, "etc/group"), group);
  const launch = definition.launch({ sessionId: "ses_test", options: { permissionMode: "ask", idleTimeoutSec: 60, network: false } });
  const wrap = bwrapArgs({ workspace: join(root, "ws"), home: join(root, "home"), passwdFile: join(root, "etc/passwd"), groupFile: join(root, "etc/group"), readOnlyPaths: launch.readOnlyPaths ?? [] });
  const argv = [...wrap, ...launch.argv];
  const proc = spawn(argv[0], argv.slice(1), { env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/home/agent", ...launch.env, OPENAI_API_KEY: "", GEMINI_API_KEY: "" }, stdio: ["pipe", "pipe", "pipe"] });
  const waiters = new Map<number, (m: any) => void>();
  let buffer = "";
  proc.stdout!.setEncoding("utf8");
  proc.stdout!.on("data", (text: string) => {
    buffer += text;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        const msg = JSON.parse(line);
        if (msg.id !== undefined && waiters.has(msg.id)) waiters.get(msg.id)!(msg);
      } catch {}
    }
  });
  return {
    proc,
    rpc: (id, method, params) =>
      new Promise((resolve) => {
        waiters.set(id, resolve);
        proc.stdin!.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
      }),
  };
}

describe("Codex and Gemini in a local sandbox", () => {
  for (const definition of [codex, gemini]) {
    it(`${definition.name}: launches, answers initialize, and refuses session/new cleanly without credentials`, async () => {
      const agent = launchInSandbox(definition);
      try {
        const init = await agent.rpc(1, "initialize", { protocolVersion: 1, clientCapabilities: {} });
        expect(init.result.protocolVersion).toBe(1);
        expect(init.result.authMethods.length).toBeGreaterThan(0);
        const session = await agent.rpc(2, "session/new", { cwd: "/workspace", mcpServers: [] });
        expect(session.error?.message).toMatch(/auth|key/i);
      } finally {
        agent.proc.kill("SIGKILL");
      }
    }, 60_000);
  }

  it("are listed as unavailable through the API, with the reason and the fix", async () => {
    const server = await startServer({ OPENAI_API_KEY: "", GEMINI_API_KEY: "" });
    try {
      const agents = (await server.api("GET", "/v1/agents")).body.agents as Array<{ name: string; available: boolean; reason?: string; fix?: string }>;
      for (const name of ["codex", "gemini"]) {
        const a = agents.find((x) => x.name === name)!;
        expect(a.available).toBe(false);
        expect(a.reason).toMatch(/no credentials/);
        expect(a.fix).toMatch(/API_KEY/);
      }
      const res = await server.api("POST", "/v1/sessions", { agent: "codex" });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/not available: no credentials/);
    } finally {
      await server.stop();
      removeDir(server.dataDir);
    }
  });
});
