/**
 * @module airlock — Airlock's built-in coding agent (packages/agent), bundled into its own folder and shown
 * read-only in the sandbox; it calls the LLM through Airlock's metering gateway.
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentDefinition } from "./registry.ts";
import { llmCredentials } from "./packages.ts";

export const airlockAgentPath = fileURLToPath(new URL("../../../agent/dist/airlock-agent.mjs", import.meta.url));

export const airlock: AgentDefinition = {
  name: "airlock",
  title: "Airlock agent",
  description:
    "Airlock's own lean coding agent: the Anthropic Messages API in a tool loop (files, search, commands, code), project context, and an optional self-review of its changes.",
  usesGateway: true,
  upstream: "anthropic",
  gatewaySocket: true,
  review: true,
  mcp: { stdio: true, http: true, sse: true },
  availability(config, tenant) {
    if (!existsSync(airlockAgentPath)) return { available: false, reason: "not built (packages/agent/dist is missing)", fix: "run `npm ci` (or `npm run build -w @airlock/agent`)" };
    if (!llmCredentials(config) && !tenant?.has("anthropic")) return { available: false, reason: "no LLM credentials", fix: "set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for an Anthropic-compatible upstream) and restart Airlock, or store the tenant's own key as a secret (PUT /v1/secrets/ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN)" };
    return { available: true };
  },
  launch({ options, gateway }) {
    return {
      argv: ["node", airlockAgentPath],
      env: {
        ...(gateway ? { ANTHROPIC_BASE_URL: gateway.baseUrl, ANTHROPIC_API_KEY: gateway.token } : {}),
        ...(options.model ? { AIRLOCK_AGENT_MODEL: options.model } : {}),
        AIRLOCK_AGENT_PERMISSION_MODE: options.permissionMode,
        ...(options.review ? { AIRLOCK_AGENT_REVIEW: "1" } : {}),
        LANG: "C.UTF-8",
        TERM: "dumb",
        ...options.env,
      },
      readOnlyPaths: [dirname(airlockAgentPath)],
    };
  },
  sessionSetup({ options }, acpSessionId) {
    // A resumed session keeps the mode it had; this makes it the session's current one in any case.
    return [{ method: "session/set_mode", params: { sessionId: acpSessionId, modeId: options.permissionMode } }];
  },
};
