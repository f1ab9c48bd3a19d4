/**
 * @module config — the agent's settings, read once from its environment at start.
 *
 * Airlock sets the first group when it launches the agent (the gateway's base URL and the session's token, the
 * session's model, permission mode and review switch); the rest are tuning knobs a session may pass in `env`.
 */

export type PermissionMode = "ask" | "acceptEdits" | "auto";

export interface AgentConfig {
  /** The Anthropic-compatible API: Airlock's gateway (its base URL, without `/v1`). */
  baseUrl: string | undefined;
  /** The session's gateway token (never a real key: that stays with the gateway). */
  apiKey: string | undefined;
  /** A unix socket serving the gateway (local sandboxes): HTTP goes there, whatever host the base URL names. */
  gatewaySocket: string | undefined;
  model: string;
  /** The reviewer's model: a fast one. */
  reviewModel: string;
  /** After a turn that changed files, a reviewer reads the diff; its findings start fix passes. */
  review: boolean;
  maxFixPasses: number;
  permissionMode: PermissionMode;
  /** `max_tokens` of one LLM response. */
  maxTokens: number;
  /** Extended thinking: off, adaptive (the model decides), or a token budget per response. */
  thinking: { type: "adaptive" } | { type: "enabled"; budget_tokens: number } | null;
  /** LLM requests one prompt may make (tool steps, fix passes and reviews included). */
  maxTurnRequests: number;
  /** Output tokens one prompt may generate, summed over its requests. */
  maxTurnOutputTokens: number;
  /** Retries of an LLM call that failed with 429, 5xx, an overload or a lost connection. */
  maxRetries: number;
  retryBaseMs: number;
  /** Default and largest timeout of `run_command` / `execute_code`. */
  commandTimeoutSec: number;
  maxCommandTimeoutSec: number;
  /** Where sessions (history) and the project-context cache are kept: the sandbox's private home. */
  stateDir: string | null;
}

export const defaultModel = "claude-sonnet-5-5";
export const defaultReviewModel = "claude-haiku-5-5";

export function readConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const mode = env.AIRLOCK_AGENT_PERMISSION_MODE;
  const maxTokens = count(env, "AIRLOCK_AGENT_MAX_TOKENS", 16_384, 1);
  const commandTimeoutSec = count(env, "AIRLOCK_AGENT_COMMAND_TIMEOUT_SEC", 120, 1);
  return {
    baseUrl: env.ANTHROPIC_BASE_URL || undefined,
    apiKey: env.ANTHROPIC_API_KEY || env.ANTHROPIC_AUTH_TOKEN || undefined,
    gatewaySocket: env.AIRLOCK_GATEWAY_SOCKET || undefined,
    model: env.AIRLOCK_AGENT_MODEL || env.ANTHROPIC_MODEL || defaultModel,
    reviewModel: env.AIRLOCK_AGENT_REVIEW_MODEL || defaultReviewModel,
    review: env.AIRLOCK_AGENT_REVIEW === "1" || env.AIRLOCK_AGENT_REVIEW === "true",
    maxFixPasses: count(env, "AIRLOCK_AGENT_REVIEW_MAX_FIXES", 2, 0),
    permissionMode: mode === "acceptEdits" || mode === "auto" ? mode : "ask",
    maxTokens,
    thinking: thinkingOf(env.AIRLOCK_AGENT_THINKING, maxTokens),
    maxTurnRequests: count(env, "AIRLOCK_AGENT_MAX_TURN_REQUESTS", 50, 1),
    maxTurnOutputTokens: count(env, "AIRLOCK_AGENT_MAX_TURN_OUTPUT_TOKENS", 200_000, 1),
    maxRetries: count(env, "AIRLOCK_AGENT_MAX_RETRIES", 4, 0),
    retryBaseMs: count(env, "AIRLOCK_AGENT_RETRY_BASE_MS", 500, 0),
    commandTimeoutSec,
    maxCommandTimeoutSec: Math.max(commandTimeoutSec, count(env, "AIRLOCK_AGENT_MAX_COMMAND_TIMEOUT_SEC", 1800, 1)),
    stateDir: env.AIRLOCK_AGENT_STATE_DIR || (env.HOME ? `${env.HOME.replace(/\/$/, "")}/.airlock-agent` : null),
  };
}

/** `off` (or unset), `adaptive`, or a budget in tokens (the API wants 1,024 or more, and less than max_tokens). */
function thinkingOf(raw: string | undefined, maxTokens: number): AgentConfig["thinking"] {
  if (!raw || raw === "off" || raw === "0") return null;
  if (raw === "adaptive") return { type: "adaptive" };
  const budget = Number(raw);
  if (Number.isInteger(budget) && budget >= 1024) return { type: "enabled", budget_tokens: Math.min(budget, maxTokens - 1) };
  process.stderr.write(`airlock-agent: AIRLOCK_AGENT_THINKING=${raw} is not off, adaptive or a token budget of at least 1024; thinking stays off\n`);
  return null;
}

/** A non-negative integer setting; a bad value is reported on stderr and the default used. */
function count(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= min) return n;
  process.stderr.write(`airlock-agent: ${name}=${raw} is not an integer ≥ ${min}; using ${fallback}\n`);
  return fallback;
}
