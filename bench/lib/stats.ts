/** Percentiles over a sample of numbers (nearest rank). */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summarize(values: number[]): { p50: number; p99: number; max: number; n: number } {
  const sorted = Float64Array.from(values).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN, n: sorted.length };
}

export const round = (n: number, digits = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

/** "p50/p99 from the agent's write: to the relay a/b ms, to the store c/d ms" — where a latency accumulates. */
export function stageSplit(toRelay: number[], toStore: number[]): string {
  const r = summarize(toRelay);
  const s = summarize(toStore);
  return `p50/p99 since the agent's write: in the relay's journal ${round(r.p50)}/${round(r.p99)} ms, stored ${round(s.p50)}/${round(s.p99)} ms`;
}

/** Of several runs, the one whose p99 is the median (the lower middle one for an even count). */
export function medianRun<T extends { p99: number }>(runs: T[]): T {
  const sorted = [...runs].sort((a, b) => a.p99 - b.p99);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * p99 of many clients' latencies without each client's first `skip` samples: with every session's turn
 * starting at the same moment, the first second measures that start (prompts stored and sent, agents woken)
 * more than the streaming; both are reported.
 */
export function p99After(perClient: number[][], skip: number): number {
  return summarize(perClient.flatMap((l) => l.slice(skip))).p99;
}
