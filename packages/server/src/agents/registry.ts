/**
 * @module agents — the agents Airlock can run, each with its launch knowledge in one place.
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { type AgentLaunch, type AgentView, type SessionOptions, badRequest } from "@airlock/protocol";
import type { Config } from "../config.ts";
import type { UpstreamApi } from "../secrets/credentials.ts";
import { airlock } from "./airlock.ts";
import { claude } from "./claude.ts";
import { codex } from "./codex.ts";
import { gemini } from "./gemini.ts";
import { opencode } from "./opencode.ts";

export interface AgentContext {
  sessionId: string;
  options: SessionOptions;
  /**
   * Where the agent reaches the LLM gateway, for agents that use it: the Anthropic API at `baseUrl`, the
   * OpenAI API at `openai.baseUrl`, the Gemini API at `gemini.baseUrl`, each with the session's token.
   */
  gateway?: { baseUrl: string; token: string; openai?: { baseUrl: string; token: string }; gemini?: { baseUrl: string; token: string } };
}

export interface AgentDefinition {
  name: string;
  title: string;
  description: string;
  /** Calls an LLM through Airlock's gateway. */
  usesGateway?: boolean;
  /** The LLM API it calls through the gateway (whose credentials it needs: the server's or the tenant's). */
  upstream?: UpstreamApi;
  /** In local sandboxes, talks HTTP to the gateway's unix socket itself (AIRLOCK_GATEWAY_SOCKET): no loopback forwarder. */
  gatewaySocket?: boolean;
  /** Can review its own changes (the session option `review`). */
  review?: boolean;
  /**
   * The MCP transports it takes in `session/new` (its ACP `mcpCapabilities`, plus stdio, which every ACP agent
   * takes). Unset: not known in advance (custom agents), so all are let through.
   */
  mcp?: { stdio: boolean; http: boolean; sse: boolean };
  /** Whether it can run here (`tenant`: the upstreams the tenant has its own credentials for); if not, why and how to fix it. */
  availability(config: Config, tenant?: Set<UpstreamApi>): { available: boolean; reason?: string; fix?: string };
  launch(ctx: AgentContext): AgentLaunch;
  /** ACP client capabilities that replace Airlock's defaults in `initialize` (fs, terminal, elicitation). */
  clientCapabilities?: Record<string, unknown>;
  /** ACP requests sent right after `session/new` (e.g. `session/set_mode` for the permission mode). */
  sessionSetup?(ctx: AgentContext, acpSessionId: string): Array<{ method: string; params: unknown }>;
}

/** The test kit's agent, bundled to one file so the sandbox needs only Node and that file. */
export { airlock, claude, codex, gemini, opencode };

export const scriptedAgentPath = fileURLToPath(new URL("../../../testkit/dist/scripted-agent.mjs", import.meta.url));

const baseEnv = { LANG: "C.UTF-8", TERM: "dumb" };

const scripted: AgentDefinition = {
  name: "scripted",
  title: "Scripted demo agent",
  description:
    "A demo agent that needs no LLM: words in the prompt pick what it does (tool, think, plan, permission, write, run, slow, echo, mcp).",
  mcp: { stdio: true, http: true, sse: true },
  availability() {
    return existsSync(scriptedAgentPath)
      ? { available: true }
      : { available: false, reason: "not built (packages/testkit/dist is missing)", fix: "run `npm ci` (or `npm run build -w @airlock/testkit`)" };
  },
  launch({ options }) {
    return {
      argv: ["node", scriptedAgentPath],
      env: { ...baseEnv, ...options.env },
      readOnlyPaths: [dirname(scriptedAgentPath)],
    };
  },
};

const custom: AgentDefinition = {
  name: "custom",
  title: "Custom ACP command",
  description: "Any program that speaks ACP over stdio, given as `command` (argv) when the session is created.",
  availability(config) {
    return config.allowCustomAgent
      ? { available: true }
      : { available: false, reason: "custom agents are off", fix: "start Airlock with AIRLOCK_ALLOW_CUSTOM_AGENT=1" };
  },
  launch({ options }) {
    if (!options.command?.length) throw badRequest("agent \"custom\" needs `command`: the agent's argv, e.g. [\"node\", \"agent.js\"]");
    return { argv: options.command, env: { ...baseEnv, ...options.env } };
  },
};

export class AgentRegistry {
  private readonly agents = new Map<string, AgentDefinition>();
  constructor(private readonly config: Config, definitions: AgentDefinition[] = [scripted, airlock, claude, opencode, codex, gemini, custom]) {
    for (const d of definitions) this.agents.set(d.name, d);
  }

  get(name: string): AgentDefinition | undefined {
    return this.agents.get(name);
  }

  /** The agent, or a 400 saying which agents exist / why this one cannot run (for a tenant with `tenant`'s credentials). */
  require(name: string, tenant?: Set<UpstreamApi>): AgentDefinition {
    const agent = this.agents.get(name);
    if (!agent) throw badRequest(`unknown agent "${name}"; known agents: ${[...this.agents.keys()].join(", ")}`);
    const a = agent.availability(this.config, tenant);
    if (!a.available) throw badRequest(`agent "${name}" is not available: ${a.reason}. Fix: ${a.fix}`);
    return agent;
  }

  /** Every agent, as a tenant with its own credentials for `tenant`'s upstreams sees them. */
  list(tenant?: Set<UpstreamApi>): AgentView[] {
    return [...this.agents.values()].map((d) => {
      const a = d.availability(this.config, tenant);
      const credentials = d.upstream ? (tenant?.has(d.upstream) ? "tenant" : "server") : undefined;
      return {
        name: d.name,
        title: d.title,
        description: d.description,
        available: a.available,
        ...(d.review ? { review: true } : {}),
        mcp: d.mcp ?? { stdio: true, http: true, sse: true },
        ...(a.available ? {} : { reason: a.reason, fix: a.fix }),
        ...(credentials && a.available ? { credentials } : {}),
      } satisfies AgentView;
    });
  }
}
