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
        return await runPrompt({ config, llm, tools, apiTools, client, capabilities }, session, prompt, signal);
      } catch (err) {
        if (signal.aborted) return "cancelled";
        // The turn ends with the reason in words (the SDK would turn a plain Error into "Internal error").
        if (err instanceof LlmError) throw new acp.RequestError(-32603, err.message, err.status ? { status: err.status } : undefined);
        throw new acp.RequestError(-32603, `the agent failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    },
    replay: (session) => replayOf(session.messages, tools),
  };
}
