/**
 * Smoke run of every benchmark scenario with tiny sizes, so the scripts cannot rot. No timing assertions:
 * only that each scenario produces figures and that delivery had no loss, gap or duplicate (the scenarios
 * throw on those).
 */
import { describe, expect, it } from "vitest";
import { runBenchmarks, scenarios } from "./run.ts";

describe("benchmarks (quick smoke run)", () => {
  for (const name of Object.keys(scenarios)) {
    it(`${name} produces figures`, async () => {
      const figures = await runBenchmarks(name === "ceiling" ? [name] : ["ceiling", name], true);
      const own = figures.filter((f) => f.scenario.replace(" ", "-") === name || (name === "sandbox-agent" && f.scenario === "sandbox-agent"));
      expect(own.length).toBeGreaterThan(0);
      for (const f of own) expect(Number.isFinite(f.value)).toBe(true);
    }, 120_000);
  }
});
