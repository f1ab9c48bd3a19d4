/**
 * Codex and Gemini CLI, the real programs from npm, launched in a real local sandbox through the provider and
 * sandboxd: they answer ACP `initialize`, and without credentials (no gateway route, no key) `session/new`
 * fails with a clean error instead of hanging. Through the API, agents without credentials are listed as
 * unavailable, saying why and how to fix it. (Through the gateway: agents-codex.test.ts, agents-gemini.test.ts.)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { JsonRpcResponse, SandboxHandle } from "@airlock/protocol";
import { SandboxdClient, sandboxdPath } from "@airlock/sandboxd";
import { type AgentDefinition, codex, gemini } from "../src/agents/registry.ts";
import { createLocalProvider } from "../src/providers/local/index.ts";
import { removeDir, startServer } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "airlock-agents-launch-"));
const provider = createLocalProvider({ dataDir: dir, sandboxdPath, installationId: "agents-launch-test" });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The agent in a fresh sandbox; `rpc` sends a request through sandboxd and waits for its answer in the journal. */
async function launchInSandbox(definition: AgentDefinition): Promise<{ handle: SandboxHandle; rpc(id: number, method: string, params: unknown): Promise<JsonRpcResponse> }> {
  const sessionId = `ses_${randomBytes(10).toString("hex")}`;
  const handle = await provider.create({ sessionId, labels: { test: "agents-launch" }, network: false });
  // With a model set: its config file must still be one the agent accepts.
  const launch = definition.launch({ sessionId, options: { permissionMode: "ask", idleTimeoutSec: 60, network: false, model: "test-model-1" } });
  const client = new SandboxdClient(await handle.startSandboxd({ ...launch, env: { ...launch.env, OPENAI_API_KEY: "", GEMINI_API_KEY: "" } }, randomBytes(16).toString("hex")));
  let after = 0;
  return {
    handle,
    async rpc(id, method, params) {
      await client.send({ jsonrpc: "2.0", id, method, params });
      const until = Date.now() + 45_000;
      while (Date.now() < until) {
        for (const r of await client.read(after, 1000, 2000)) {
          after = r.seq;
          if (r.kind === "agent" && "id" in r.msg && r.msg.id === id && !("method" in r.msg)) return r.msg as JsonRpcResponse;
          if (r.kind === "exit") throw new Error(`${definition.name} exited (${r.code ?? r.signal}) before answering ${method}`);
        }
      }
      throw new Error(`${definition.name} did not answer ${method}`);
    },
  };
}

describe("Codex and Gemini in a local sandbox", () => {
  for (const definition of [codex, gemini]) {
    it(`${definition.name}: launches, answers initialize, and refuses session/new cleanly without credentials`, async () => {
      const agent = await launchInSandbox(definition);
      try {
        const init = (await agent.rpc(1, "initialize", { protocolVersion: 1, clientCapabilities: {} })).result as { protocolVersion: number; authMethods: unknown[] };
        expect(init.protocolVersion).toBe(1);
        expect(init.authMethods.length).toBeGreaterThan(0);
        const session = await agent.rpc(2, "session/new", { cwd: "/workspace", mcpServers: [] });
        expect(session.error?.message).toMatch(/auth|key/i);
      } finally {
        await agent.handle.destroy();
      }
    }, 60_000);
  }

  it("without credentials, agents are listed as unavailable through the API, with the reason and the fix", async () => {
    const server = await startServer({ OPENAI_API_KEY: "", GEMINI_API_KEY: "", ANTHROPIC_API_KEY: "" });
    try {
      const agents = (await server.api("GET", "/v1/agents")).body.agents as Array<{ name: string; available: boolean; reason?: string; fix?: string }>;
      const res = await server.api("POST", "/v1/sessions", { agent: "codex" });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/agent "codex" is not available: no LLM credentials. Fix: set OPENAI_API_KEY/);
      // No keys and the vendors' own APIs as the upstreams: the gateway agents cannot run.
      for (const name of ["claude", "opencode", "codex", "gemini"]) {
        const a = agents.find((x) => x.name === name)!;
        expect(a).toMatchObject({ available: false, reason: "no LLM credentials" });
        expect(a.fix).toMatch({ codex: /OPENAI_API_KEY/, gemini: /GEMINI_API_KEY/ }[name] ?? /ANTHROPIC_API_KEY/);
      }
      expect(agents.find((x) => x.name === "scripted")).toMatchObject({ available: true, description: expect.stringMatching(/demo agent that needs no LLM/) });
    } finally {
      await server.stop();
      removeDir(server.dataDir);
    }
  });
});
