import type { Figure } from "./report.ts";

export interface BenchContext {
  quick: boolean;
  record(figure: Figure): void;
  /** Figures by `scenario/metric`, for ratios between scenarios of the same run. */
  results: Map<string, number>;
}

export type Scenario = (ctx: BenchContext) => Promise<void>;
