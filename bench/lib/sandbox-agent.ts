/**
 * sandbox-agent (the peer Airlock is measured against), run with the same scripted ACP agent: its test-style
 * launcher swap (`$XDG_DATA_HOME/sandbox-agent/bin/agent_processes/mock-acp`) starts our agent as "mock".
 * ACP over HTTP: POST /v1/acp/{server}?agent=mock for requests, GET /v1/acp/{server} for the SSE stream.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rssMb } from "./airlock.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const sandboxAgentBinary = join(root, "node_modules/@sandbox-agent/cli-linux-x64/bin/sandbox-agent");
const scriptedAgent = join(root, "packages/testkit/dist/scripted-agent.mjs");

export interface SandboxAgentServer {
  url: string;
  rssMb(): number;
  rpc(server: string, id: number, method: string, params: unknown, agent?: string): Promise<any>;
  stop(): Promise<void>;
}

export const sandboxAgentAvailable = () => existsSync(sandboxAgentBinary);

export async function startSandboxAgent(): Promise<SandboxAgentServer> {
  const dir = mkdtempSync(join(tmpdir(), "airlock-bench-sa-"));
  const processes = join(dir, "data/sandbox-agent/bin/agent_processes");
  mkdirSync(processes, { recursive: true });
  mkdirSync(join(dir, "home"));
  writeFileSync(join(processes, "mock-acp"), `#!/bin/sh\nexec "${process.execPath}" "${scriptedAgent}" "$@"\n`);
  chmodSync(join(processes, "mock-acp"), 0o755);
  const port = await freePort();
  const proc: ChildProcess = spawn(sandboxAgentBinary, ["server", "--no-token", "--no-telemetry", "--host", "127.0.0.1", "--port", String(port)], {
    env: { PATH: process.env.PATH, HOME: join(dir, "home"), XDG_DATA_HOME: join(dir, "data") },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/v1/health`).then((r) => r.ok, () => false)) break;
    if (i > 200) throw new Error("sandbox-agent did not start");
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url,
    rssMb: () => rssMb(proc.pid!),
    async rpc(server, id, method, params, agent) {
      const res = await fetch(`${url}/v1/acp/${server}${agent ? `?agent=${agent}` : ""}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
      });
      if (!res.ok) throw new Error(`sandbox-agent ${method}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    async stop() {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      setTimeout(() => proc.kill("SIGKILL"), 3000).unref();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
