/**
 * @module gateway — how an agent reaches the LLM gateway from its sandbox, with its session's token.
 *
 * Local sandboxes have no network: each session gets a unix socket served by this control plane, bound into
 * the sandbox at /run/airlock, and a forwarder inside listens on the sandbox's loopback and relays to it.
 * Other providers reach the gateway at AIRLOCK_PUBLIC_URL.
 */
import { mkdirSync, rmSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getRequestListener } from "@hono/node-server";
import { AirlockError, type AgentLaunch } from "@airlock/protocol";
import type { GatewayTokens } from "./tokens.ts";

export { anthropicGateway } from "./anthropic.ts";
export { GatewayTokens } from "./tokens.ts";
export { priceTable } from "./pricing.ts";

export const forwarderPath = fileURLToPath(new URL("./forwarder/forwarder.mjs", import.meta.url));
const sandboxSocketDir = "/run/airlock";
const sandboxPort = 4599;
export const gatewayPath = "/gateway/anthropic";

export interface GatewayAccess {
  /** Base URL of the Anthropic-compatible gateway as the agent sees it. */
  baseUrl: string;
  token: string;
}

export class Gateway {
  private readonly servers = new Map<string, { server: Server; dir: string }>();
  private fetchHandler: ((req: Request) => Response | Promise<Response>) | null = null;

  constructor(
    private readonly options: { dataDir: string; publicUrl: string | null; tokens: GatewayTokens },
  ) {}

  setFetch(fetch: (req: Request) => Response | Promise<Response>): void {
    this.fetchHandler = fetch;
  }

  access(sessionId: string, provider: string): GatewayAccess {
    const token = this.options.tokens.issue(sessionId);
    if (provider === "local") return { baseUrl: `http://127.0.0.1:${sandboxPort}${gatewayPath}`, token };
    if (!this.options.publicUrl) {
      throw new AirlockError("bad_request", `sandboxes of provider "${provider}" reach the LLM gateway at AIRLOCK_PUBLIC_URL, which is not set`);
    }
    return { baseUrl: `${this.options.publicUrl.replace(/\/$/, "")}${gatewayPath}`, token };
  }

  /** Local sandboxes: opens the session's socket and runs the agent behind the forwarder. */
  async wrapLocal(sessionId: string, launch: AgentLaunch): Promise<AgentLaunch> {
    const dir = await this.listen(sessionId);
    return {
      ...launch,
      argv: ["node", forwarderPath, String(sandboxPort), `${sandboxSocketDir}/gw.sock`, "--", ...launch.argv],
      readOnlyPaths: [...(launch.readOnlyPaths ?? []), dirname(forwarderPath)],
      binds: [...(launch.binds ?? []), { host: dir, sandbox: sandboxSocketDir }],
    };
  }

  close(sessionId: string): void {
    const entry = this.servers.get(sessionId);
    if (!entry) return;
    this.servers.delete(sessionId);
    entry.server.close();
    rmSync(entry.dir, { recursive: true, force: true });
  }

  closeAll(): void {
    for (const id of [...this.servers.keys()]) this.close(id);
  }

  private async listen(sessionId: string): Promise<string> {
    const existing = this.servers.get(sessionId);
    if (existing) return existing.dir;
    if (!this.fetchHandler) throw new Error("gateway is not wired to the HTTP app");
    let dir = join(this.options.dataDir, "gateway", sessionId);
    // Unix socket paths are limited to 107 bytes.
    if (dir.length > 90) dir = join(tmpdir(), `airlock-gw-${sessionId}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const server = createServer(getRequestListener(this.fetchHandler));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(join(dir, "gw.sock"), resolve);
    });
    this.servers.set(sessionId, { server, dir });
    return dir;
  }
}
