/**
 * @module fake-e2b — a working stand-in for E2B (its control API and each sandbox's envd), so the real `e2b`
 * SDK and the real sandboxd run end to end offline. Point the SDK at it with `apiUrl`/`sandboxUrl` (or the
 * `E2B_API_URL`/`E2B_SANDBOX_URL`/`E2B_API_KEY` variables of `fake.env`).
 *
 * What it imitates (wire protocol and lifecycle): see README.md in this folder. In short: sandboxes are
 * created from named templates with metadata, env vars, a timeout and `autoPause`; listed with metadata and
 * state filters; resumed by connect; paused (their processes frozen, not stopped) and killed; they expire on
 * their timeout. In each sandbox, commands really run (bash, as root or `user`, with envd's environment and
 * its 60 s default timeout), files are uploaded and downloaded, and ports are reached through the proxy.
 * What it cannot: VM isolation (processes run on this host, as this host's root, sharing its network and
 * kernel), template builds, snapshots, volumes, PTYs, directory watching, metrics, egress rules.
 *
 * Needs Linux, bubblewrap and nsenter, and root (to run sandbox processes as `user`).
 *
 * @example
 * const fake = await startFakeE2B({ templates: { airlock: { binds: [{ host: nodeModules, sandbox: "/opt/airlock/node_modules" }] } } });
 * const sbx = await Sandbox.create("airlock", { apiKey: fake.apiKey, apiUrl: fake.apiUrl, sandboxUrl: fake.sandboxUrl });
 * await sbx.commands.run("echo hi");
 * await fake.close();
 */
import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Fault, handleControl } from "./control-api.ts";
import type { FakeTemplate, SandboxState } from "./sandbox.ts";
import { handleSandbox } from "./sandbox-server.ts";
import { FakeE2BState, type RecordedCall } from "./state.ts";

export type { Fault, FakeTemplate, RecordedCall };
export { envdPort } from "./sandbox-server.ts";

export interface FakeE2BOptions {
  /** The one API key accepted (default `e2b_fake_key`). */
  apiKey?: string;
  /** Templates by name or alias; `base` always exists (the host's own programs, users root and user). */
  templates?: Record<string, FakeTemplate>;
  /** Running sandboxes allowed at once; past it, create answers 429 like E2B's concurrency quota. */
  maxSandboxes?: number;
  /** envd version reported to the SDK (it switches SDK features on and off). */
  envdVersion?: string;
  /** Where sandboxes' filesystems live (default: a new temporary folder, removed by `close`). */
  dataDir?: string;
}

export interface FakeSandboxInfo {
  id: string;
  templateID: string;
  state: SandboxState;
  metadata: Record<string, string>;
  endAt: Date;
  autoPause: boolean;
  network: Record<string, unknown> | undefined;
  /** Processes alive in the sandbox right now. */
  processCount: number;
  /** Where the sandbox's `/` is on this host. */
  root: string;
}

export interface FakeE2B {
  apiUrl: string;
  sandboxUrl: string;
  apiKey: string;
  /** `E2B_API_KEY`, `E2B_API_URL`, `E2B_SANDBOX_URL` for a child process using the SDK. */
  env: Record<string, string>;
  /** Every control-API call, in order. */
  calls: RecordedCall[];
  sandboxes(): FakeSandboxInfo[];
  sandbox(id: string): FakeSandboxInfo | undefined;
  addTemplate(name: string, template: FakeTemplate): void;
  removeTemplate(name: string): void;
  /** The next matching control-API call(s) fail with this status. */
  fail(fault: Fault): void;
  clearFaults(): void;
  /** Runs out a sandbox's timeout now (it pauses with autoPause, else it is killed). */
  expire(id: string): Promise<void>;
  /** Kills a sandbox behind the client's back (as E2B does at end of life). */
  kill(id: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeE2B(options: FakeE2BOptions = {}): Promise<FakeE2B> {
  const missing = ["bwrap", "nsenter", "setpriv"].filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
  if (missing.length) throw new Error(`the fake E2B needs ${missing.join(", ")} (packages bubblewrap and util-linux)`);
  if (process.getuid?.() !== 0) throw new Error("the fake E2B needs root: its sandboxes run processes as their own users (root, user, agent)");
  const ownDir = !options.dataDir;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "fake-e2b-"));
  const state = new FakeE2BState(options.apiKey ?? "e2b_fake_key", dataDir, options.envdVersion ?? "0.5.8", options.maxSandboxes);
  state.templates.set("base", {});
  for (const [name, t] of Object.entries(options.templates ?? {})) state.templates.set(name, t);

  const serve = (handler: (req: any, res: any) => Promise<void>) =>
    createServer((req, res) => {
      handler(req, res).catch((err) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ code: 500, message: String((err as Error)?.message ?? err) }));
        } else res.destroy();
      });
    });
  const api = serve((req, res) => handleControl(state, req, res));
  const sandboxSide = serve((req, res) => handleSandbox(state, req, res));
  const apiPort = await listen(api);
  const sandboxPort = await listen(sandboxSide);
  // getHost(port) → `PORT-ID.localhost:PORT_OF_FAKE`: served by Host routing where *.localhost resolves to
  // loopback; elsewhere the SDK (and Airlock) use sandboxUrl with routing headers.
  state.domain = `localhost:${sandboxPort}`;

  const info = (id: string): FakeSandboxInfo | undefined => {
    const s = state.sandboxes.get(id);
    if (!s) return undefined;
    return {
      id: s.id,
      templateID: s.templateID,
      state: s.state,
      metadata: s.metadata,
      endAt: s.endAt,
      autoPause: s.autoPause,
      network: s.network,
      processCount: s.state === "killed" ? 0 : s.vm.liveProcessCount(),
      root: s.vm.root,
    };
  };

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  return {
    apiUrl,
    sandboxUrl,
    apiKey: state.apiKey,
    env: { E2B_API_KEY: state.apiKey, E2B_API_URL: apiUrl, E2B_SANDBOX_URL: sandboxUrl },
    calls: state.calls,
    sandboxes: () => [...state.sandboxes.keys()].map((id) => info(id)!),
    sandbox: info,
    addTemplate: (name, t) => void state.templates.set(name, t),
    removeTemplate: (name) => void state.templates.delete(name),
    fail: (fault) => state.addFault(fault),
    clearFaults: () => state.clearFaults(),
    async expire(id) {
      const s = state.sandboxes.get(id);
      if (s) await state.expire(s);
    },
    async kill(id) {
      const s = state.sandboxes.get(id);
      if (s) await state.kill(s);
    },
    async close() {
      await Promise.all(state.live().map((s) => state.kill(s)));
      for (const server of [api, sandboxSide]) {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}
