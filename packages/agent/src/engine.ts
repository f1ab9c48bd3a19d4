/**
 * @module engine — everything a prompt needs (the Anthropic SDK, the tools and their schemas, jsdiff), kept
 * out of the agent's start-up: `agent.ts` loads this module right after answering `initialize`, so the agent
 * is ready at once and the engine is loaded by the time the first prompt comes.
 */
import * as acp from "@agentclientprotocol/sdk";
import type { AgentContext, ClientCapabilities, ContentBlock, SessionUpdate, StopReason } from "@agentclientprotocol/sdk";
import type { AgentConfig } from "./config.ts";
import { replayOf } from "./history.ts";
import { Llm, LlmError } from "./llm.ts";
import type { Session } from "./session.ts";
import { allTools, apiToolOf } from "./tools/index.ts";
import { connectMcpServers } from "./mcp.ts";
import { runPrompt } from "./turn.ts";

export interface Engine {
  prompt(client: AgentContext, capabilities: ClientCapabilities, session: Session, prompt: ContentBlock[], signal: AbortSignal): Promise<StopReason>;
  /** The session's conversation as the updates a client would have seen. */
  replay(session: Session): SessionUpdate[];
}

export function createEngine(config: AgentConfig): Engine {
  const tools = new Map(allTools(config).map((t) => [t.name, t]));
  const apiTools = [...tools.values()].map(apiToolOf);
  // Node loads its fetch (undici) on first use, ~50 ms: better now, while the agent waits for its first prompt.
  if (!config.gatewaySocket) void globalThis.fetch;
  const llm = new Llm({ baseUrl: config.baseUrl, apiKey: config.apiKey, socketPath: config.gatewaySocket, maxRetries: config.maxRetries, retryBaseMs: config.retryBaseMs });
  return {
    async prompt(client, capabilities, session, prompt, signal) {
      try {
        const mcp = await mcpToolsOf(session, client);
        const all = mcp.length ? new Map([...tools, ...mcp.map((t) => [t.name, t] as const)]) : tools;
        const allApi = mcp.length ? [...apiTools, ...mcp.map(apiToolOf)] : apiTools;
        return await runPrompt({ config, llm, tools: all, apiTools: allApi, client, capabilities }, session, prompt, signal);
      } catch (err) {
        if (signal.aborted) return "cancelled";
        // The turn ends with the reason in words (the SDK would turn a plain Error into "Internal error").
        if (err instanceof LlmError) throw new acp.RequestError(-32603, err.message, err.status ? { status: err.status } : undefined);
        throw new acp.RequestError(-32603, `the agent failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    },
    replay: (session) => replayOf(session.messages, tools),
  };

  /** The session's MCP tools, connected once; servers that failed are said once, as a thought. */
  async function mcpToolsOf(session: Session, client: AgentContext) {
    if (session.mcpServers.length === 0) return [];
    if (!session.mcp) {
      session.mcp = connectMcpServers(session.mcpServers, { cwd: session.cwd, gatewaySocket: config.gatewaySocket });
      const { problems } = await session.mcp;
      for (const text of problems) {
        const update: SessionUpdate = { sessionUpdate: "agent_thought_chunk", content: { type: "text", text: `${text}\n` }, _meta: { airlock: { phase: "mcp" } } };
        await client.notify(acp.methods.client.session.update, { sessionId: session.id, update }).catch(() => {});
      }
    }
    return (await session.mcp).tools;
  }
}
