/**
 * @module pricing — what an LLM call costs, in USD per million tokens, by model name prefix (longest prefix
 * wins, so `claude-opus-4-1` beats the family's `claude-opus`).
 *
 * The defaults are Anthropic's, OpenAI's and Google's published list prices for the models known when this
 * table was written; a model it does not know is priced as its family's newest (or, outside the known
 * families, as Claude Sonnet). Prompt-cache reads cost a tenth of the input price and cache writes 1.25 times
 * it, as Anthropic bills them (5-minute cache), unless an entry says otherwise. Batch discounts, long-context
 * surcharges, priority tiers and server tools are not counted.
 *
 * Override or extend with `AIRLOCK_PRICES='{"claude-x": {"input": 3, "output": 15}}'` (optional
 * `cacheRead` and `cacheWrite`, same unit).
 */
export interface Price {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

export interface TokenCounts {
  /** Fresh input tokens (not from or into the prompt cache). */
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

const defaults: Record<string, Price> = {
  "claude-opus": { input: 5, output: 25 },
  "claude-opus-4-0": { input: 15, output: 75 },
  "claude-opus-4-1": { input: 15, output: 75 },
  "claude-opus-4-2": { input: 15, output: 75 }, // claude-opus-4-20250514
  "claude-3-opus": { input: 15, output: 75 },
  "claude-sonnet": { input: 3, output: 15 },
  "claude-3-7-sonnet": { input: 3, output: 15 },
  "claude-3-5-sonnet": { input: 3, output: 15 },
  "claude-haiku": { input: 1, output: 5 },
  "claude-3-5-haiku": { input: 0.8, output: 4 },
  "claude-3-haiku": { input: 0.25, output: 1.25 },
  // OpenAI (Codex): cached input at a tenth, no charge for cache writes.
  "gpt-5": { input: 1.25, output: 10, cacheWrite: 0 },
  "gpt-5-mini": { input: 0.25, output: 2, cacheWrite: 0 },
  "gpt-5-nano": { input: 0.05, output: 0.4, cacheWrite: 0 },
  "gpt-4.1": { input: 2, output: 8, cacheRead: 0.5, cacheWrite: 0 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6, cacheRead: 0.1, cacheWrite: 0 },
  "gpt-4o": { input: 2.5, output: 10, cacheRead: 1.25, cacheWrite: 0 },
  "gpt-4o-mini": { input: 0.15, output: 0.6, cacheRead: 0.075, cacheWrite: 0 },
  o3: { input: 2, output: 8, cacheRead: 0.5, cacheWrite: 0 },
  "o4-mini": { input: 1.1, output: 4.4, cacheRead: 0.275, cacheWrite: 0 },
  // Google (Gemini CLI), prompts up to 200k tokens.
  gemini: { input: 1.25, output: 10, cacheWrite: 0 },
  "gemini-2.5-pro": { input: 1.25, output: 10, cacheWrite: 0 },
  "gemini-2.5-flash": { input: 0.3, output: 2.5, cacheWrite: 0 },
  "gemini-2.5-flash-lite": { input: 0.1, output: 0.4, cacheWrite: 0 },
  "gemini-3-pro": { input: 2, output: 12, cacheWrite: 0 },
};
const fallback: Price = { input: 3, output: 15 };

export function priceTable(env: NodeJS.ProcessEnv = process.env): Record<string, Price> {
  if (!env.AIRLOCK_PRICES) return defaults;
  let parsed: unknown;
  try {
    parsed = JSON.parse(env.AIRLOCK_PRICES);
  } catch {
    parsed = null;
  }
  const valid = (p: unknown): p is Price =>
    typeof p === "object" && p !== null && ["input", "output"].every((k) => typeof (p as Record<string, unknown>)[k] === "number");
  if (typeof parsed !== "object" || parsed === null || !Object.values(parsed).every(valid)) {
    throw new Error('AIRLOCK_PRICES must be JSON like {"model-prefix": {"input": 3, "output": 15}} (USD per million tokens)');
  }
  return { ...defaults, ...(parsed as Record<string, Price>) };
}

export function priceOf(table: Record<string, Price>, model: string): Price {
  let best = fallback;
  let length = -1;
  for (const [prefix, price] of Object.entries(table)) {
    if (model.startsWith(prefix) && prefix.length > length) {
      best = price;
      length = prefix.length;
    }
  }
  return best;
}

export function costUsd(table: Record<string, Price>, model: string, tokens: TokenCounts): number {
  const p = priceOf(table, model);
  const cacheRead = (tokens.cacheRead ?? 0) * (p.cacheRead ?? p.input * 0.1);
  const cacheWrite = (tokens.cacheWrite ?? 0) * (p.cacheWrite ?? p.input * 1.25);
  return (tokens.input * p.input + tokens.output * p.output + cacheRead + cacheWrite) / 1_000_000;
}
