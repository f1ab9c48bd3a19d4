/**
 * sandboxd on its own, without bubblewrap or the server: the scripted agent under the bundled relay, its
 * journal read over the relay's own stream. Isolates the relay's share of a figure.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SandboxdConfig } from "@airlock/protocol";
import { SandboxdClient, sandboxdPath, waitForSandboxd } from "@airlock/sandboxd";

const agent = fileURLToPath(new URL("../../packages/testkit/dist/scripted-agent.mjs", import.meta.url));

export interface BareRelay {
  pid: number;
  client: SandboxdClient;
  /** Sends a JSON-RPC request to the agent and resolves with its answer (read from the journal). */
  request(id: string, method: string, params: unknown): Promise<any>;
  stop(): Promise<void>;
}

export async function startBareRelay(): Promise<BareRelay> {
  const dir = mkdtempSync(join(tmpdir(), "airlock-bench-relay-"));
  const config: SandboxdConfig = {
    token: "bench",
    listen: { socketPath: join(dir, "sandboxd.sock") },
    stateDir: dir,
    workspace: { hostPath: dir, sandboxPath: dir },
    agent: { argv: [process.execPath, agent], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
    wrap: [],
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  // BENCH_CPU_PROF=DIR profiles the relay too.
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const proc: ChildProcess = spawn(process.execPath, [...profile, sandboxdPath, join(dir, "config.json")], { stdio: "ignore", cwd: dir });
  for (let i = 0; !existsSync(join(dir, "sandboxd.json")); i++) {
    if (i > 500 || proc.exitCode !== null) throw new Error(`sandboxd did not start (see ${dir}/sandboxd.log)`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const endpoint = { token: "bench", socketPath: join(dir, "sandboxd.sock") };
  await waitForSandboxd(endpoint);
  const client = new SandboxdClient(endpoint);
  return {
    pid: proc.pid!,
    client,
    async request(id, method, params) {
      const { seq } = await client.send({ jsonrpc: "2.0", id, method, params });
      for (let after = seq; ; ) {
        const records = await client.read(after, 1000, 5000);
        for (const r of records) {
          const msg = (r as { msg?: { id?: unknown } }).msg;
          if (r.kind === "agent" && msg?.id === id) return msg;
        }
        if (records.length) after = records[records.length - 1].seq;
      }
    },
    async stop() {
      const exited = proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once("exit", r));
      await client.shutdown().catch(() => proc.kill("SIGKILL"));
      await client.ack(Number.MAX_SAFE_INTEGER).catch(() => {});
      setTimeout(() => proc.kill("SIGKILL"), 5000).unref();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
