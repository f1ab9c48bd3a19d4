/**
 * @module agent-start — what starting a session's agent takes: its command line (with the route to the LLM
 * gateway when it uses one, and to the session's MCP servers when it has remote ones), its env with secrets
 * resolved, and the parameters of its ACP session (`session/new`, `session/load`).
 */
import type { AgentLaunch, SessionRecord } from "@airlock/protocol";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Gateway } from "../gateway/index.ts";
import type { Secrets } from "../secrets/index.ts";
import { type AcpMcpServer, acpMcpServers, isRemote, withCommandCheck } from "./mcp-servers.ts";

export interface AgentStartDeps {
  agents: AgentRegistry;
  gateway: Gateway;
  secrets: Secrets;
}

export interface AgentStart {
  launch: AgentLaunch;
  /** Values to mask in what the session stores (the env's secrets and long values). */
  mask: string[];
}

/**
 * The agent's command line and environment for `session`. Secret references are read now, at each start: a
 * secret replaced since the last start applies from this one.
 */
export async function agentLaunch(deps: AgentStartDeps, session: SessionRecord): Promise<AgentStart> {
  const agent = deps.agents.require(session.agent, await deps.secrets.upstreams(session.tenant));
  const { env, mask } = await deps.secrets.resolveEnv(session.tenant, session.id, session.options.env);
  const servers = session.options.mcpServers ?? [];
  const gateway = agent.usesGateway ? deps.gateway.access(session.id, session.provider) : undefined;
  const launch = withCommandCheck(agent.launch({ sessionId: session.id, options: { ...session.options, env }, gateway }), servers);
  // A local sandbox has no network: its route out (the loopback forwarder, or the socket the agent speaks
  // itself) is what reaches the LLM gateway and the session's remote MCP servers alike.
  const needsRoute = agent.usesGateway || servers.some(isRemote);
  if (!needsRoute || session.provider !== "local") return { launch, mask };
  return { launch: await deps.gateway.wrapLocal(session.id, launch, agent.usesGateway === true && agent.gatewaySocket === true), mask };
}

/** What to mask for an agent already running (after a restart of the control plane): as at its start, leniently. */
export async function maskOf(deps: AgentStartDeps, session: SessionRecord): Promise<string[]> {
  return (await deps.secrets.resolveEnv(session.tenant, session.id, session.options.env, { lenient: true })).mask;
}

/** The parameters `session/new` and `session/load` share. */
export function acpSessionParams(deps: AgentStartDeps, session: SessionRecord, cwd: string): { cwd: string; mcpServers: AcpMcpServer[] } {
  const servers = (session.options.mcpServers ?? []).map((s) => deps.secrets.openMcpServer(session.id, s));
  return { cwd, mcpServers: acpMcpServers(servers, () => deps.gateway.mcpAccess(session.id, session.provider)) };
}
