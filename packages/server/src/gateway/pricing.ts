/**
 * @module pricing — USD per million tokens, by model name prefix (longest prefix wins). Override or extend
 * with `AIRLOCK_PRICES='{"claude-x": {"input": 3, "output": 15}}'`.
 */
export interface Price {
  input: number;
  output: number;
}

const defaults: Record<string, Price> = {
  "claude-opus": { input: 15, output: 75 },
  "claude-sonnet": { input: 3, output: 15 },
  "claude-3-7-sonnet": { input: 3, output: 15 },
  "claude-3-5-sonnet": { input: 3, output: 15 },
  "claude-haiku": { input: 1, output: 5 },
  "claude-3-5-haiku": { input: 0.8, output: 4 },
  "claude-3-haiku": { input: 0.25, output: 1.25 },
};
const fallback: Price = { input: 3, output: 15 };

export function priceTable(env: NodeJS.ProcessEnv = process.env): Record<string, Price> {
  if (!env.AIRLOCK_PRICES) return defaults;
  try {
    return { ...defaults, ...(JSON.parse(env.AIRLOCK_PRICES) as Record<string, Price>) };
  } catch {
    throw new Error("AIRLOCK_PRICES must be JSON like {\"model-prefix\": {\"input\": 3, \"output\": 15}}");
  }
}

export function costUsd(table: Record<string, Price>, model: string, inputTokens: number, outputTokens: number): number {
  let best: Price = fallback;
  let length = -1;
  for (const [prefix, price] of Object.entries(table)) {
    if (model.startsWith(prefix) && prefix.length > length) {
      best = price;
      length = prefix.length;
    }
  }
  return (inputTokens * best.input + outputTokens * best.output) / 1_000_000;
}
