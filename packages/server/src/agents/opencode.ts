/**
 * @module opencode — OpenCode's `opencode acp`, with a private config whose provider is Airlock's gateway.
 */
import type { AgentDefinition } from "./registry.ts";
import { installed, llmCredentials, nodeModules, pathOf } from "./packages.ts";

const binary = "opencode-ai/bin/opencode.exe";
const defaultModel = "claude-sonnet-5-5";
const permissions = {
  ask: { edit: "ask", bash: "ask", webfetch: "ask" },
  acceptEdits: { edit: "allow", bash: "ask", webfetch: "ask" },
  auto: { edit: "allow", bash: "allow", webfetch: "allow" },
} as const;

export const opencode: AgentDefinition = {
  name: "opencode",
  title: "OpenCode",
  description: "The open-source coding agent `opencode acp`; calls the LLM through Airlock's metering gateway.",
  usesGateway: true,
  mcp: { stdio: true, http: true, sse: true },
  upstream: "anthropic",
  availability(config, tenant) {
    if (!installed(binary)) return { available: false, reason: "not installed", fix: "run `npm ci` (it installs opencode-ai)" };
    if (!llmCredentials(config) && !tenant?.has("anthropic")) return { available: false, reason: "no LLM credentials", fix: "set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for an Anthropic-compatible upstream) and restart Airlock, or store the tenant's own key as a secret (PUT /v1/secrets/ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN)" };
    return { available: true };
  },
  launch({ options, gateway }) {
    const model = options.model ?? defaultModel;
    const config = {
      $schema: "https://opencode.ai/config.json",
      autoupdate: false,
      share: "disabled",
      provider: {
        airlock: {
          npm: "@ai-sdk/anthropic",
          name: "Airlock gateway",
          options: { baseURL: `${gateway?.baseUrl ?? ""}/v1`, apiKey: gateway?.token ?? "" },
          models: { [model]: { name: model, tool_call: true, attachment: false, reasoning: false, temperature: true } },
        },
      },
      // Only the gateway: OpenCode's other built-in providers would need network and keys the sandbox lacks.
      enabled_providers: ["airlock"],
      model: `airlock/${model}`,
      small_model: `airlock/${model}`,
      permission: permissions[options.permissionMode],
    };
    return {
      argv: [pathOf(binary), "acp"],
      env: {
        OPENCODE_DISABLE_MODELS_FETCH: "1",
        OPENCODE_DISABLE_AUTOUPDATE: "1",
        OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
        OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
        XDG_CONFIG_HOME: "/home/agent/.config",
        XDG_DATA_HOME: "/home/agent/.local/share",
        XDG_CACHE_HOME: "/home/agent/.cache",
        XDG_STATE_HOME: "/home/agent/.local/state",
        LANG: "C.UTF-8",
        ...options.env,
      },
      homeFiles: { ".config/opencode/opencode.json": JSON.stringify(config, null, 2) },
      readOnlyPaths: [nodeModules],
    };
  },
};
