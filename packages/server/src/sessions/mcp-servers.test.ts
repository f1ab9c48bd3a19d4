import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { McpServer } from "@airlock/protocol";
import { acpMcpServers, checkMcpServers, mcpServersView, missingCommandCode, withCommandCheck } from "./mcp-servers.ts";

const stdio: McpServer = { name: "fs", command: "node", args: ["s.mjs"], env: [{ name: "LEVEL", value: "secret-ish" }] };
const http: McpServer = { type: "http", name: "web", url: "https://mcp.example/mcp?x=1", headers: [{ name: "Authorization", value: "Bearer real-token" }] };

describe("what the agent gets and what the API shows", () => {
  it("passes stdio servers as given and points remote ones at the session's route with the gateway token", () => {
    const servers = acpMcpServers([stdio, http], () => ({ baseUrl: "http://127.0.0.1:4599/gateway/mcp", token: "gw_ses_1_abc" }));
    expect(servers).toEqual([
      { name: "fs", command: "node", args: ["s.mjs"], env: [{ name: "LEVEL", value: "secret-ish" }] },
      { type: "http", name: "web", url: "http://127.0.0.1:4599/gateway/mcp/web", headers: [{ name: "Authorization", value: "Bearer gw_ses_1_abc" }] },
    ]);
    expect(JSON.stringify(servers)).not.toContain("real-token");
    expect(() => acpMcpServers([http], null)).toThrow(/cannot reach/);
  });

  it("shows names of headers and env variables, never their values", () => {
    const view = mcpServersView([stdio, http]);
    expect(view).toEqual([
      { type: "stdio", name: "fs", command: "node", args: ["s.mjs"], env: ["LEVEL"] },
      { type: "http", name: "web", url: "https://mcp.example/mcp?x=1", headers: ["Authorization"] },
    ]);
    expect(mcpServersView(undefined)).toEqual([]);
  });

  it("refuses a transport the agent does not take, naming the entry", () => {
    const agent = { name: "codex", mcp: { stdio: true, http: true, sse: false } } as any;
    expect(() => checkMcpServers(agent, [stdio, { ...http, type: "sse" } as McpServer])).toThrow(/invalid mcpServers\.1: agent "codex" does not take sse MCP servers \(it takes: stdio, http\)/);
    expect(() => checkMcpServers({ name: "custom" } as any, [stdio, { ...http, type: "sse" } as McpServer])).not.toThrow();
  });
});

describe("the launch's command check (real sh)", () => {
  const dir = mkdtempSync(join(tmpdir(), "airlock-mcp-check-"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "present-tool"), "#!/bin/sh\n");
  chmodSync(join(dir, "bin", "present-tool"), 0o755);
  writeFileSync(join(dir, "not-executable.sh"), "#!/bin/sh\n");
  const run = (servers: McpServer[]) => {
    const launch = withCommandCheck({ argv: ["echo", "agent started"], env: {} }, servers);
    return spawnSync(launch.argv[0], launch.argv.slice(1), { cwd: dir, input: "", encoding: "utf8", env: { PATH: `${join(dir, "bin")}:/usr/bin:/bin` } });
  };
  const server = (name: string, command: string): McpServer => ({ name, command, args: [], env: [] });

  it("starts the agent when every command is there (on PATH, or a path from the workspace)", () => {
    expect(run([server("a", "present-tool"), server("b", "sh"), server("c", "./bin/present-tool")]).stdout).toBe("agent started\n");
    expect(withCommandCheck({ argv: ["agent"], env: {} }, [http]).argv).toEqual(["agent"]);
  });

  it("answers initialize with an error naming the first missing server and command, and never starts the agent", () => {
    for (const missing of ["no-such-tool", "./not-executable.sh", "./absent.mjs"]) {
      const out = run([server("ok", "present-tool"), server("broken", missing), server("later", "also-missing")]);
      expect(out.stdout).not.toContain("agent started");
      const reply = JSON.parse(out.stdout.trim());
      expect(reply).toMatchObject({ jsonrpc: "2.0", id: "airlock:initialize", error: { data: { airlock: missingCommandCode, server: "broken", command: missing } } });
      expect(reply.error.message).toContain(`MCP server "broken": the command "${missing}" does not exist in the sandbox`);
    }
  });

  it("passes commands and names with quotes and spaces through untouched", () => {
    const out = run([server("q", `it's "odd" $(touch pwned)`)]);
    expect(JSON.parse(out.stdout.trim()).error.data.command).toBe(`it's "odd" $(touch pwned)`);
    expect(spawnSync("ls", [dir], { encoding: "utf8" }).stdout).not.toContain("pwned");
  });
});
