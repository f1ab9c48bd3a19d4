/**
 * @module codex — OpenAI's Codex through `@zed-industries/codex-acp`, pointed at the gateway's OpenAI API
 * (Responses API) by a model provider in its private `config.toml`: no OpenAI login, no key in the sandbox.
 */
import type { AgentDefinition } from "./registry.ts";
import { installed, nodeModules, openaiCredentials, pathOf } from "./packages.ts";

const entry = "@zed-industries/codex-acp/bin/codex-acp.js";
/**
 * Codex's approval presets, which codex-acp offers as ACP modes (seen in its `session/new` answer):
 * "read-only" asks before any edit or command, "auto" edits the workspace and runs commands in Codex's own
 * sandbox, "full-access" never asks.
 */
const modes = { ask: "read-only", acceptEdits: "auto", auto: "full-access" } as const;
const home = "/home/agent/.codex";
/** The variable Codex reads the provider's key from. */
const tokenVariable = "AIRLOCK_GATEWAY_TOKEN";

export const codex: AgentDefinition = {
  name: "codex",
  title: "Codex",
  description: "OpenAI's Codex through its ACP adapter; calls the LLM through Airlock's metering gateway.",
  usesGateway: true,
  // Codex speaks Streamable HTTP to MCP servers, not the older SSE transport.
  mcp: { stdio: true, http: true, sse: false },
  upstream: "openai",
  availability(config, tenant) {
    if (!installed(entry)) return { available: false, reason: "not installed", fix: "run `npm ci` (it installs @zed-industries/codex-acp)" };
    if (!openaiCredentials(config) && !tenant?.has("openai")) return { available: false, reason: "no LLM credentials", fix: "set OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible upstream) and restart Airlock, or store the tenant's own key as a secret (PUT /v1/secrets/OPENAI_API_KEY)" };
    return { available: true };
  },
  launch({ options, gateway }) {
    const openai = gateway?.openai;
    const config = [
      "check_for_update_on_startup = false",
      ...(options.model ? [`model = ${JSON.stringify(options.model)}`] : []),
      ...(openai
        ? [
            `model_provider = "airlock"`,
            "",
            "[model_providers.airlock]",
            `name = "Airlock gateway"`,
            `base_url = ${JSON.stringify(openai.baseUrl)}`,
            `env_key = "${tokenVariable}"`,
            `wire_api = "responses"`,
          ]
        : []),
    ];
    return {
      argv: ["node", pathOf(entry)],
      env: { CODEX_HOME: home, LANG: "C.UTF-8", ...(openai ? { [tokenVariable]: openai.token } : {}), ...options.env },
      readOnlyPaths: [nodeModules],
      // Its config lives in the sandbox's private home, where its session files go too (session/load).
      homeFiles: { ".codex/config.toml": config.join("\n") + "\n" },
    };
  },
  sessionSetup({ options }, acpSessionId) {
    return [{ method: "session/set_mode", params: { sessionId: acpSessionId, modeId: modes[options.permissionMode] } }];
  },
};
