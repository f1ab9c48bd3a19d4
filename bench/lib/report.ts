/**
 * Figures of a benchmark run: printed as they come, and appended to BENCHMARKS.md with what they were
 * measured on.
 */
import { execSync } from "node:child_process";
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

export interface Figure {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  /** e.g. "≥ 50000" — shown next to the value. */
  target?: string;
  note?: string;
}

const file = fileURLToPath(new URL("../../BENCHMARKS.md", import.meta.url));

export function print(f: Figure): void {
  const target = f.target ? `   (target ${f.target})` : "";
  console.log(`  ${f.scenario.padEnd(14)} ${f.metric.padEnd(52)} ${String(f.value).padStart(12)} ${f.unit}${target}${f.note ? `   ${f.note}` : ""}`);
}

export function machine(): string {
  let rev = "unknown";
  try {
    rev = execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
  } catch {}
  return `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, git ${rev}`;
}

export function append(figures: Figure[], title: string): void {
  if (!existsSync(file)) {
    writeFileSync(
      file,
      "# Benchmarks\n\nWritten by `npm run bench` (scenarios in `bench/scenarios/`); each run is appended below with the machine it ran on.\n" +
        "Figures are from shared, noisy 2-core machines: read them as orders of magnitude and ratios, not promises.\n",
    );
  }
  const rows = figures.map((f) => `| ${f.scenario} | ${f.metric} | ${f.value} ${f.unit} | ${f.target ?? ""} | ${f.note ?? ""} |`);
  appendFileSync(file, `\n## ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC — ${title}\n\n${machine()}\n\n| scenario | metric | value | target | note |\n| --- | --- | --- | --- | --- |\n${rows.join("\n")}\n`);
}
