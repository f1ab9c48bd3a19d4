/**
 * @module gateway — how an agent reaches the LLM gateway from its sandbox, with its session's token.
 *
 * Local sandboxes have no network: each session gets a unix socket served by this control plane, in a folder
 * bound into the sandbox at /run/airlock, and a forwarder inside listens on the sandbox's own loopback and
 * relays to it: that one route, no general network. Other providers reach the gateway at AIRLOCK_PUBLIC_URL;
 * where that is not set, only an operator opt-in (AIRLOCK_PASS_REAL_KEY=1) lets the real key into the sandbox.
 *
 * The socket's folder outlives the control plane, like the sandbox it is bound into: a restarted control plane
 * listens again at the same path (a new folder would not be seen by the running sandbox).
 */
import { chownSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Http2Bindings, type HttpBindings, getRequestListener } from "@hono/node-server";
import { AirlockError, type AgentLaunch } from "@airlock/protocol";
import type { Logger } from "../log.ts";
import type { GatewayTokens } from "./tokens.ts";

export { anthropicGateway } from "./anthropic.ts";
export { geminiGateway } from "./gemini.ts";
export { openaiGateway } from "./openai.ts";
export type { GatewaySessions } from "./proxy.ts";
export { GatewayTokens } from "./tokens.ts";
export { costUsd, priceTable } from "./pricing.ts";
export { type McpSessions, mcpProxy } from "./mcp-proxy.ts";

export const forwarderPath = fileURLToPath(new URL("./forwarder/forwarder.mjs", import.meta.url));
export const sandboxSocketDir = "/run/airlock";
/** The forwarder's port on the sandbox's loopback. */
export const sandboxPort = 4599;
/** Where the gateway's APIs are mounted on the control plane. */
export const gatewayPath = "/gateway/anthropic";
export const openaiGatewayPath = "/gateway/openai";
export const geminiGatewayPath = "/gateway/gemini";
/** The session's remote MCP servers: `/gateway/mcp/<name>` (see mcp-proxy.ts). */
export const mcpGatewayPath = "/gateway/mcp";
const servedPaths = [gatewayPath, openaiGatewayPath, geminiGatewayPath, mcpGatewayPath];
const socketName = "gw.sock";

/** The app's fetch; `env` carries Node's request and response, so the gateway can stream straight into it. */
type FetchHandler = (req: Request, env?: HttpBindings | Http2Bindings) => Response | Promise<Response>;

/** One API as the agent reaches it. */
export interface ApiAccess {
  /** Base URL as that API's clients take it: Anthropic's without `/v1`, OpenAI's ending in `/v1`. */
  baseUrl: string;
  /** What the agent sends as its key: the session's gateway token (or, opted in, the real key). */
  token: string;
}

export interface GatewayAccess extends ApiAccess {
  /** The OpenAI-compatible API (Codex). */
  openai: ApiAccess;
  /** The Gemini API (Gemini CLI): base URL without the version. */
  gemini: ApiAccess;
  /** True when the agent calls the upstreams itself with the real keys (AIRLOCK_PASS_REAL_KEY=1): no metering. */
  direct?: boolean;
}

export interface GatewayConfig {
  dataDir: string;
  publicUrl: string | null;
  tokens: GatewayTokens;
  /** The upstreams and their keys, for the operator's opt-in to pass the real keys into sandboxes. */
  upstream?: { baseUrl: string; apiKey: string | null };
  openaiUpstream?: { baseUrl: string; apiKey: string | null };
  geminiUpstream?: { baseUrl: string; apiKey: string | null };
  passRealKey?: boolean;
  log?: Logger;
}

export class Gateway {
  private readonly servers = new Map<string, Server>();
  private fetchHandler: FetchHandler | null = null;

  constructor(private readonly options: GatewayConfig) {}

  setFetch(fetch: FetchHandler): void {
    this.fetchHandler = fetch;
  }

  access(sessionId: string, provider: string): GatewayAccess {
    const token = this.options.tokens.issue(sessionId);
    const at = (root: string): GatewayAccess => ({
      baseUrl: `${root}${gatewayPath}`,
      token,
      openai: { baseUrl: `${root}${openaiGatewayPath}/v1`, token },
      gemini: { baseUrl: `${root}${geminiGatewayPath}`, token },
    });
    if (provider === "local") return at(`http://127.0.0.1:${sandboxPort}`);
    if (this.options.publicUrl) return at(this.options.publicUrl.replace(/\/$/, ""));
    const { upstream, openaiUpstream, geminiUpstream } = this.options;
    if (this.options.passRealKey && (upstream?.apiKey || openaiUpstream?.apiKey || geminiUpstream?.apiKey)) {
      this.options.log?.warn({ session: sessionId, provider }, "AIRLOCK_PASS_REAL_KEY=1: the real LLM keys go into this sandbox (no gateway: no metering, no budget)");
      return {
        baseUrl: upstream?.baseUrl ?? "",
        token: upstream?.apiKey ?? "",
        openai: { baseUrl: openaiUpstream?.baseUrl ?? "", token: openaiUpstream?.apiKey ?? "" },
        gemini: { baseUrl: geminiUpstream?.baseUrl ?? "", token: geminiUpstream?.apiKey ?? "" },
        direct: true,
      };
    }
    throw new AirlockError(
      "bad_request",
      `sandboxes of provider "${provider}" reach the LLM gateway at AIRLOCK_PUBLIC_URL, which is not set (or, to pass the real key into the sandbox instead, set AIRLOCK_PASS_REAL_KEY=1)`,
    );
  }

  /**
   * Where the agent reaches its session's remote MCP servers (`<baseUrl>/<name>`) and the token it sends. Unlike
   * the LLM's, an MCP server's own credentials never go into a sandbox: without a route there is no access.
   */
  mcpAccess(sessionId: string, provider: string): ApiAccess {
    const token = this.options.tokens.issue(sessionId);
    if (provider === "local") return { baseUrl: `http://127.0.0.1:${sandboxPort}${mcpGatewayPath}`, token };
    if (this.options.publicUrl) return { baseUrl: `${this.options.publicUrl.replace(/\/$/, "")}${mcpGatewayPath}`, token };
    throw new AirlockError("bad_request", `invalid mcpServers: sandboxes of provider "${provider}" reach HTTP MCP servers through the control plane at AIRLOCK_PUBLIC_URL, which is not set`);
  }

  /** Whether sandboxes of `provider` can reach the control plane's routes (the LLM gateway, MCP servers). */
  reachable(provider: string): boolean {
    return provider === "local" || this.options.publicUrl !== null;
  }

  /**
   * Local sandboxes: serves the session's socket and runs the agent behind the forwarder — or, for an agent
   * that talks to the socket itself, only binds it and names it in AIRLOCK_GATEWAY_SOCKET.
   */
  async wrapLocal(sessionId: string, launch: AgentLaunch, speaksSocket = false): Promise<AgentLaunch> {
    const dir = await this.listen(sessionId);
    const bind = { host: dir, sandbox: sandboxSocketDir };
    if (speaksSocket) return { ...launch, env: { ...launch.env, AIRLOCK_GATEWAY_SOCKET: `${sandboxSocketDir}/${socketName}` }, binds: [...(launch.binds ?? []), bind] };
    return {
      ...launch,
      argv: ["node", forwarderPath, String(sandboxPort), `${sandboxSocketDir}/${socketName}`, "--", ...launch.argv],
      readOnlyPaths: [...(launch.readOnlyPaths ?? []), dirname(forwarderPath)],
      binds: [...(launch.binds ?? []), bind],
    };
  }

  /** After a restart of the control plane: serve again the socket of a sandbox that still runs. */
  async reattach(sessionId: string): Promise<void> {
    if (existsSync(this.dirOf(sessionId))) await this.listen(sessionId);
  }

  /** The session is over (or idle-stopped): stop serving it and remove its folder. */
  close(sessionId: string): void {
    this.servers.get(sessionId)?.close();
    this.servers.delete(sessionId);
    rmSync(this.dirOf(sessionId), { recursive: true, force: true });
  }

  /**
   * Another node serves the session now and has bound its own socket at the same path: forget ours without
   * closing it (closing a listener unlinks its path, which is the new owner's socket by now).
   */
  release(sessionId: string): void {
    this.servers.delete(sessionId);
  }

  /** Shutdown of the control plane: stop serving, but keep the folders that running sandboxes have bound. */
  closeAll(): void {
    for (const server of this.servers.values()) server.close();
    this.servers.clear();
  }

  private dirOf(sessionId: string): string {
    const dir = join(this.options.dataDir, "gateway", sessionId);
    // Unix socket paths are limited to 107 bytes.
    return dir.length + socketName.length + 1 > 100 ? join(tmpdir(), `airlock-gw-${sessionId}`) : dir;
  }

  /**
   * What a session's socket serves: the gateway's API and nothing else of the control plane, and only with
   * this session's token, whatever token the agent found (defence in depth: the socket is the sandbox's one
   * way out).
   */
  private socketHandler(sessionId: string, fetch: FetchHandler) {
    const tokens = this.options.tokens;
    return (req: Request, env: HttpBindings | Http2Bindings) => {
      const path = new URL(req.url).pathname;
      if (!servedPaths.some((p) => path === p || path.startsWith(`${p}/`))) {
        return Response.json({ type: "error", error: { type: "not_found_error", message: `only the LLM gateway (${servedPaths.join(", ")}) is served here` } }, { status: 404 });
      }
      const token =
        req.headers.get("x-api-key") ?? req.headers.get("x-goog-api-key") ?? req.headers.get("authorization")?.replace(/^Bearer\s+/i, "") ?? new URL(req.url).searchParams.get("key");
      if (token && tokens.verify(token) !== sessionId) {
        return Response.json({ type: "error", error: { type: "authentication_error", message: "Airlock gateway: this token belongs to another session" } }, { status: 401 });
      }
      return fetch(req, env);
    };
  }

  private async listen(sessionId: string): Promise<string> {
    const dir = this.dirOf(sessionId);
    if (this.servers.has(sessionId)) return dir;
    if (!this.fetchHandler) throw new Error("gateway is not wired to the HTTP app");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, socketName);
    rmSync(path, { force: true });
    const server = createServer(getRequestListener(this.socketHandler(sessionId, this.fetchHandler)));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, resolve);
    });
    // The folder belongs to the sandbox's user when it is mapped to an unprivileged uid (see uid-map.ts): a socket
    // made again after a restart must be that user's too, or the running agent could no longer connect.
    const owner = statSync(dir);
    if (owner.uid !== process.getuid?.()) chownSync(path, owner.uid, owner.gid);
    this.servers.set(sessionId, server);
    return dir;
  }
}
