/**
 * @module claude — Claude Code through `@agentclientprotocol/claude-agent-acp`, pointed at the gateway.
 */
import type { AgentDefinition } from "./registry.ts";
import { installed, llmCredentials, nodeModules, pathOf } from "./packages.ts";

const entry = "@agentclientprotocol/claude-agent-acp/dist/index.js";
const modes = { ask: "default", acceptEdits: "acceptEdits", auto: "bypassPermissions" } as const;

export const claude: AgentDefinition = {
  name: "claude",
  title: "Claude Code",
  description: "Anthropic's Claude Code, through its ACP adapter; calls the LLM through Airlock's metering gateway.",
  usesGateway: true,
  mcp: { stdio: true, http: true, sse: true },
  upstream: "anthropic",
  availability(config, tenant) {
    if (!installed(entry)) return { available: false, reason: "not installed", fix: "run `npm ci` (it installs @agentclientprotocol/claude-agent-acp)" };
    if (!llmCredentials(config) && !tenant?.has("anthropic")) return { available: false, reason: "no LLM credentials", fix: "set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for an Anthropic-compatible upstream) and restart Airlock, or store the tenant's own key as a secret (PUT /v1/secrets/ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN)" };
    return { available: true };
  },
  launch({ options, gateway }) {
    return {
      argv: ["node", pathOf(entry)],
      env: {
        ...(gateway ? { ANTHROPIC_BASE_URL: gateway.baseUrl, ANTHROPIC_API_KEY: gateway.token } : {}),
        ...(options.model ? { ANTHROPIC_MODEL: options.model } : {}),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_TELEMETRY: "1",
        DISABLE_ERROR_REPORTING: "1",
        DISABLE_AUTOUPDATER: "1",
        // It runs as uid 1000 in the sandbox; this also lets permission-bypassing modes work where uid 0 is seen.
        IS_SANDBOX: "1",
        LANG: "C.UTF-8",
        ...options.env,
      },
      readOnlyPaths: [nodeModules],
      // Without a configured mode the adapter starts in "auto" (a classifier decides); Airlock's modes are explicit.
      homeFiles: { ".claude/settings.json": JSON.stringify({ permissions: { defaultMode: modes[options.permissionMode] } }) },
    };
  },
  sessionSetup({ options }, acpSessionId) {
    return [{ method: "session/set_mode", params: { sessionId: acpSessionId, modeId: modes[options.permissionMode] } }];
  },
};
