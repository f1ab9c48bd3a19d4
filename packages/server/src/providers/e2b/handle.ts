/**
 * @module handle — one Airlock session's E2B sandbox: sandboxd started in it as root (the agent runs as
 * `agent` under it), reached through E2B's proxy with the session's token, kept alive, paused, killed.
 */
import { readFileSync } from "node:fs";
import { Sandbox } from "e2b";
import {
  type AgentLaunch,
  AirlockError,
  type SandboxHandle,
  type SandboxRef,
  type SandboxSpec,
  type SandboxdConfig,
  type SandboxdEndpoint,
  type SandboxdState,
  type WorkspaceDiff,
  type WorkspaceEntry,
} from "@airlock/protocol";
import { SandboxdClient, waitForSandboxd } from "@airlock/sandboxd";
import { e2bError, isGone } from "./errors.ts";
import { translateLaunch } from "./launch.ts";
import { withUserPrefix } from "../user-prefix.ts";
import { agentHome, agentPath, agentUser, agentWrap, nodeModulesDir, optDir, relayDir, sandboxdFile, shellQuote, workspace } from "./layout.ts";
import { diffWorkspace, readWorkspace } from "./workspace.ts";

export interface Connection {
  apiKey?: string;
  apiUrl?: string;
  sandboxUrl?: string;
  domain?: string;
  requestTimeoutMs?: number;
  /** The SDK's retries of a 429 with Retry-After. */
  retries?: number;
}

export interface HandleContext {
  connection: Connection;
  sandboxdPath: string;
  hostNodeModules: string;
  /** Pinned versions of the agent packages, by name. */
  pins: Record<string, string>;
  /** TTL given on connect/resume (ms). */
  timeoutMs: number;
}

const startTimeoutMs = 30_000;

export class E2bHandle implements SandboxHandle {
  readonly ref: SandboxRef;
  readonly workspacePath = workspace;
  private sbx: Sandbox | null;

  constructor(
    private readonly ctx: HandleContext,
    readonly id: string,
    sbx: Sandbox | null,
    private readonly resources: SandboxSpec["resources"] = {},
    private readonly onProgress?: (step: string) => void,
  ) {
    this.sbx = sbx;
    this.ref = { provider: "e2b", id, data: resources && Object.keys(resources).length ? { resources } : {} };
  }

  /** The SDK's sandbox object; connecting resumes a paused sandbox (E2B's `Sandbox.connect`). */
  private async sandbox(): Promise<Sandbox> {
    if (!this.sbx) {
      try {
        this.sbx = await Sandbox.connect(this.id, { ...this.ctx.connection, timeoutMs: this.ctx.timeoutMs });
      } catch (err) {
        throw e2bError(err, "connecting to the sandbox", { sandboxId: this.id });
      }
    }
    return this.sbx;
  }

  /** Runs `fn`; when the sandbox turns out paused (its timeout ran out) it is resumed once and `fn` retried. */
  private async use<T>(doing: string, fn: (sbx: Sandbox) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.sandbox());
    } catch (err) {
      if (AirlockError.is(err) || !isGone(err)) throw AirlockError.is(err) ? err : e2bError(err, doing, { sandboxId: this.id });
      this.sbx = null;
      try {
        return await fn(await this.sandbox());
      } catch (again) {
        throw e2bError(again, doing, { sandboxId: this.id });
      }
    }
  }

  async startSandboxd(launch: AgentLaunch, token: string, signal?: AbortSignal): Promise<SandboxdEndpoint> {
    const plan = translateLaunch(launch, this.ctx.hostNodeModules, this.ctx.pins);
    return this.use("starting the sandbox relay", async (sbx) => {
      const current = await this.readState(sbx);
      if (current) {
        // A retried start finds its relay running with this token and a live agent: keep it.
        const endpoint = this.endpoint(sbx, current, token);
        const health = await new SandboxdClient(endpoint).health(3000).catch(() => null);
        if (health?.agentRunning || health?.preparing) return endpoint;
        // One winding down (its agent gone) is stopped; its journal stays and the new relay continues it.
        await this.stopRelay(sbx, current);
      }
      await this.installMissing(sbx, plan.packages);
      const files: Array<{ path: string; data: string | ArrayBuffer }> = [
        { path: sandboxdFile, data: toArrayBuffer(readFileSync(this.ctx.sandboxdPath)) },
        ...plan.uploads.map((u) => ({ path: u.path, data: toArrayBuffer(u.data) })),
      ];
      await sbx.files.write(files, { user: "root" });
      const home = Object.entries(launch.homeFiles ?? {}).map(([file, data]) => ({ path: `${agentHome}/${file.replace(/^\/+/, "")}`, data }));
      if (home.length) await sbx.files.write(home, { user: agentUser });
      const config: SandboxdConfig = {
        token,
        // 0.0.0.0: E2B's proxy reaches the VM's interface; a loopback-only port waits for envd's port scanner.
        listen: { host: "0.0.0.0", port: 0 },
        stateDir: relayDir,
        workspace: { hostPath: workspace, sandboxPath: workspace },
        agent: {
          argv: plan.argv,
          env: withUserPrefix({ PATH: agentPath, USER: agentUser, LOGNAME: agentUser, TMPDIR: "/tmp", ...plan.env, HOME: agentHome }, agentHome),
        },
        wrap: agentWrap(this.resources),
        ...(launch.setup ? { setup: launch.setup } : {}),
      };
      await sbx.files.write(`${relayDir}/config.json`, JSON.stringify(config), { user: "root" });
      await sbx.commands.run(`rm -f ${relayDir}/sandboxd.json`, { user: "root" });
      signal?.throwIfAborted();
      // timeoutMs 0: the SDK's default of 60 s would have envd kill the relay after a minute.
      const proc = await sbx.commands.run(`umask 002; exec node ${sandboxdFile} ${relayDir}/config.json >>${relayDir}/stdout.log 2>&1`, {
        background: true,
        timeoutMs: 0,
        user: "root",
        cwd: relayDir,
      });
      try {
        const until = Date.now() + startTimeoutMs;
        let state: SandboxdState | null = null;
        while (!state && Date.now() < until && proc.exitCode === undefined) {
          signal?.throwIfAborted();
          state = await this.readState(sbx);
          if (!state) await new Promise((r) => setTimeout(r, 100));
        }
        if (!state) {
          const log = await sbx.files.read(`${relayDir}/sandboxd.log`, { user: "root" }).catch(() => "");
          const out = await sbx.files.read(`${relayDir}/stdout.log`, { user: "root" }).catch(() => "");
          throw new AirlockError("unavailable", `the sandbox relay did not start in the E2B sandbox: ${(log + out).trim().split("\n").slice(-10).join("\n") || "no log"}`);
        }
        const endpoint = this.endpoint(sbx, state, token);
        await waitForSandboxd(endpoint, 15_000);
        return endpoint;
      } finally {
        // Stop following its output; the relay keeps running (envd does not tie it to this stream).
        await proc.disconnect();
      }
    });
  }

  async findSandboxd(token: string): Promise<SandboxdEndpoint | null> {
    return this.use("looking for the sandbox relay", async (sbx) => {
      const state = await this.readState(sbx);
      if (!state) return null;
      const endpoint = this.endpoint(sbx, state, token);
      try {
        await new SandboxdClient(endpoint).health(5000);
        return endpoint;
      } catch {
        return null;
      }
    });
  }

  readWorkspace(path: string): Promise<WorkspaceEntry> {
    return this.use("reading the workspace", (sbx) => readWorkspace(sbx, path));
  }

  diff(): Promise<WorkspaceDiff> {
    return this.use("diffing the workspace", (sbx) => diffWorkspace(sbx));
  }

  /** Pushes E2B's own timeout forward: `ms` from now. */
  async keepAlive(ms: number): Promise<void> {
    try {
      await Sandbox.setTimeout(this.id, ms, this.ctx.connection);
    } catch (err) {
      throw e2bError(err, "extending the sandbox's timeout", { sandboxId: this.id });
    }
  }

  /** Pauses with memory: sandboxd and the agent continue where they were on the next connect. */
  async pause(): Promise<void> {
    try {
      await Sandbox.pause(this.id, this.ctx.connection);
      this.sbx = null;
    } catch (err) {
      throw e2bError(err, "pausing the sandbox", { sandboxId: this.id });
    }
  }

  async destroy(): Promise<void> {
    try {
      await Sandbox.kill(this.id, this.ctx.connection);
    } catch (err) {
      if (!isGone(err)) throw e2bError(err, "killing the sandbox", { sandboxId: this.id });
    }
    this.sbx = null;
  }

  /** What a sandbox without the template lacks: the agent's npm packages, installed now (slow, needs network). */
  private async installMissing(sbx: Sandbox, packages: string[]): Promise<void> {
    const missing: string[] = [];
    for (const spec of packages) {
      const name = spec.replace(/(?!^)@[^@]*$/, "");
      if (!(await sbx.files.exists(`${nodeModulesDir}/${name}/package.json`))) missing.push(spec);
    }
    if (missing.length === 0) return;
    this.onProgress?.(`installing ${missing.join(", ")} (the sandbox was not made from the Airlock template)`);
    await sbx.commands.run(`cd ${optDir} && npm install --no-audit --no-fund --omit=dev --no-save ${missing.map(shellQuote).join(" ")}`, {
      user: "root",
      timeoutMs: 15 * 60_000,
    });
  }

  /** Stops a relay and its agent: `POST /shutdown` with its own token, then SIGKILL for what is left. */
  private async stopRelay(sbx: Sandbox, state: SandboxdState): Promise<void> {
    const config = await sbx.files.read(`${relayDir}/config.json`, { user: "root" }).catch(() => "");
    const token = config ? (JSON.parse(config) as SandboxdConfig).token : null;
    if (token) await new SandboxdClient(this.endpoint(sbx, state, token)).shutdown().catch(() => {});
    // Only a pid whose command line is still the relay's is signalled (a pid can be reused).
    const agent = state.agentPid ? `kill -9 -${state.agentPid} 2>/dev/null;` : "";
    await sbx.commands.run(`if grep -q sandboxd /proc/${state.pid}/cmdline 2>/dev/null; then ${agent} kill -9 ${state.pid}; fi; true`, { user: "root" });
  }

  private async readState(sbx: Sandbox): Promise<SandboxdState | null> {
    try {
      return JSON.parse(await sbx.files.read(`${relayDir}/sandboxd.json`, { user: "root" })) as SandboxdState;
    } catch (err) {
      if ((err as Error)?.name === "FileNotFoundError" || err instanceof SyntaxError) return null;
      throw err;
    }
  }

  private endpoint(sbx: Sandbox, state: SandboxdState, token: string): SandboxdEndpoint {
    if (!("port" in state.listen)) throw new AirlockError("internal", "the relay in the E2B sandbox listens on a unix socket");
    return sandboxdEndpoint(sbx, state.listen.port, token, this.ctx.connection.sandboxUrl);
  }
}

/**
 * How the control plane reaches a port of an E2B sandbox: `https://getHost(port)` on E2B's cloud; through the
 * one `sandboxUrl` with E2B's routing headers where the SDK itself goes through one (self-hosted E2B, the test
 * kit's fake). A sandbox made with private ingress also wants its traffic access token.
 */
export function sandboxdEndpoint(
  sbx: Pick<Sandbox, "sandboxId" | "trafficAccessToken" | "getHost">,
  port: number,
  token: string,
  sandboxUrl?: string,
): SandboxdEndpoint {
  const traffic: Record<string, string> = sbx.trafficAccessToken ? { "e2b-traffic-access-token": sbx.trafficAccessToken } : {};
  if (sandboxUrl) return { token, url: sandboxUrl, headers: { "E2b-Sandbox-Id": sbx.sandboxId, "E2b-Sandbox-Port": String(port), ...traffic } };
  return { token, url: `https://${sbx.getHost(port)}`, headers: traffic };
}

function toArrayBuffer(data: Buffer): ArrayBuffer {
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}
