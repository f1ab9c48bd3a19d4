/**
 * `npm run bench [-- scenario ...] [--quick]`: runs the scenarios, prints their figures, and appends them to
 * BENCHMARKS.md (not with --quick or AIRLOCK_BENCH_NO_WRITE=1).
 */
import type { BenchContext, Scenario } from "./lib/context.ts";
import { type Figure, append, machine, print } from "./lib/report.ts";
import { agent } from "./scenarios/agent.ts";
import { burst } from "./scenarios/burst.ts";
import { ceiling } from "./scenarios/ceiling.ts";
import { cluster } from "./scenarios/cluster.ts";
import { coldStart } from "./scenarios/cold-start.ts";
import { fileChanges } from "./scenarios/file-changes.ts";
import { concurrency } from "./scenarios/concurrency.ts";
import { footprint } from "./scenarios/footprint.ts";
import { latency } from "./scenarios/latency.ts";
import { relay } from "./scenarios/relay.ts";
import { replay } from "./scenarios/replay.ts";
import { sandboxAgent } from "./scenarios/sandbox-agent.ts";
import { store } from "./scenarios/store.ts";

export const scenarios: Record<string, Scenario> = {
  ceiling,
  relay,
  burst,
  latency,
  replay,
  "cold-start": coldStart,
  footprint,
  concurrency,
  "sandbox-agent": sandboxAgent,
  agent,
  store,
  "file-changes": fileChanges,
  cluster,
};

export async function runBenchmarks(names: string[], quick: boolean): Promise<Figure[]> {
  const figures: Figure[] = [];
  const ctx: BenchContext = {
    quick,
    results: new Map(),
    record(f) {
      figures.push(f);
      print(f);
    },
  };
  for (const name of names) {
    const scenario = scenarios[name];
    if (!scenario) throw new Error(`unknown scenario "${name}"; scenarios: ${Object.keys(scenarios).join(", ")}`);
    await scenario(ctx);
  }
  return figures;
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!);
if (isMain) {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const names = args.filter((a) => !a.startsWith("--"));
  console.log(`Airlock benchmarks on ${machine()}${quick ? " (quick)" : ""}\n`);
  const figures = await runBenchmarks(names.length ? names : Object.keys(scenarios), quick);
  if (!quick && process.env.AIRLOCK_BENCH_NO_WRITE !== "1") {
    append(figures, names.length ? names.join(", ") : "all scenarios");
    console.log("\nappended to BENCHMARKS.md");
  }
  process.exit(0);
}
