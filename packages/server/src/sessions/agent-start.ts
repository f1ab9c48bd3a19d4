/**
 * @module agent-start — what starting a session's agent takes: its command line (with the route to the LLM
 * gateway when it uses one) and the parameters of its ACP session (`session/new`, `session/load`).
 */
import type { AgentLaunch, SessionRecord } from "@airlock/protocol";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Gateway } from "../gateway/index.ts";

export interface AgentStartDeps {
  agents: AgentRegistry;
  gateway: Gateway;
}

/** The agent's command line and environment for `session`. */
export async function agentLaunch(deps: AgentStartDeps, session: SessionRecord): Promise<AgentLaunch> {
  const agent = deps.agents.require(session.agent);
  const gateway = agent.usesGateway ? deps.gateway.access(session.id, session.provider) : undefined;
  const launch = { ...agent.launch({ sessionId: session.id, options: session.options, gateway }), ...(session.options.setup ? { setup: session.options.setup } : {}) };
  return agent.usesGateway && session.provider === "local" ? deps.gateway.wrapLocal(session.id, launch, agent.gatewaySocket) : launch;
}

/** The parameters `session/new` and `session/load` share. */
export function acpSessionParams(_session: SessionRecord, cwd: string): { cwd: string; mcpServers: unknown[] } {
  return { cwd, mcpServers: [] };
}
