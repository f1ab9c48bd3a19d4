/**
 * @module credentials — a tenant's own LLM credentials, kept as secrets with well-known names, which the gateway
 * uses for that tenant's sessions instead of the server's keys. They never enter a sandbox: the agent still
 * holds only its session's gateway token.
 *
 * Anthropic takes an API key (`ANTHROPIC_API_KEY`, sent as `x-api-key`) or a Claude subscription's OAuth token
 * (`CLAUDE_CODE_OAUTH_TOKEN`, what `claude setup-token` prints), sent as `Authorization: Bearer` with the
 * `anthropic-beta: oauth-2025-04-20` header Claude Code itself sends for it. With both, the API key wins.
 */

export type UpstreamApi = "anthropic" | "openai" | "gemini";

/** How the gateway authenticates to one upstream. */
export interface UpstreamCredential {
  kind: "apiKey" | "oauth";
  value: string;
  /** The secret it came from, for messages. */
  name: string;
}

export type LlmCredentials = Partial<Record<UpstreamApi, UpstreamCredential>>;

export const credentialSecrets = {
  anthropicApiKey: "ANTHROPIC_API_KEY",
  claudeOauthToken: "CLAUDE_CODE_OAUTH_TOKEN",
  openaiApiKey: "OPENAI_API_KEY",
  geminiApiKey: "GEMINI_API_KEY",
} as const;

export const credentialNames: string[] = Object.values(credentialSecrets);

/** The beta flag that makes Anthropic's API take a Claude subscription's OAuth token. */
export const oauthBeta = "oauth-2025-04-20";

export function credentialsOf(values: Record<string, string>): LlmCredentials {
  const c: LlmCredentials = {};
  const s = credentialSecrets;
  if (values[s.anthropicApiKey]) c.anthropic = { kind: "apiKey", value: values[s.anthropicApiKey], name: s.anthropicApiKey };
  else if (values[s.claudeOauthToken]) c.anthropic = { kind: "oauth", value: values[s.claudeOauthToken], name: s.claudeOauthToken };
  if (values[s.openaiApiKey]) c.openai = { kind: "apiKey", value: values[s.openaiApiKey], name: s.openaiApiKey };
  if (values[s.geminiApiKey]) c.gemini = { kind: "apiKey", value: values[s.geminiApiKey], name: s.geminiApiKey };
  return c;
}

/** Which upstreams a tenant has credentials for, from the names of its secrets alone. */
export function upstreamsOf(names: Set<string>): Set<UpstreamApi> {
  const s = credentialSecrets;
  const out = new Set<UpstreamApi>();
  if (names.has(s.anthropicApiKey) || names.has(s.claudeOauthToken)) out.add("anthropic");
  if (names.has(s.openaiApiKey)) out.add("openai");
  if (names.has(s.geminiApiKey)) out.add("gemini");
  return out;
}
