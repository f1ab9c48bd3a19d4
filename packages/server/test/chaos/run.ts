/**
 * `npm run chaos`: the adversarial scenarios with their long loops (CHAOS_LONG=1), then their counts written
 * to RELIABILITY.md: the latest run as a short table at the top, every run kept below it.
 *
 *   npm run chaos                      every scenario, long
 *   npm run chaos -- fuzz server-kill  only the scenarios whose file names contain these words
 *   CHAOS_ROUNDS=3 npm run chaos       a given number of rounds for every loop
 *   AIRLOCK_CHAOS_NO_WRITE=1           print the counts without writing RELIABILITY.md
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../..", import.meta.url));
const here = fileURLToPath(new URL(".", import.meta.url));
const reliability = join(root, "RELIABILITY.md");

interface Row {
  scenario: string;
  counts: Record<string, number>;
  at: string;
}

const words = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".test.ts") && (words.length === 0 || words.some((w) => f.includes(w))))
  .map((f) => join("packages/server/test/chaos", f));
if (files.length === 0) {
  console.error(`no scenario matches ${words.join(" ")}`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), "airlock-chaos-"));
const reportFile = join(dir, "report.ndjson");
const started = Date.now();
const run = spawnSync(process.execPath, [join(root, "node_modules/vitest/vitest.mjs"), "run", ...files], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, CHAOS_LONG: "1", CHAOS_REPORT: reportFile },
});
const rows: Row[] = existsSync(reportFile)
  ? readFileSync(reportFile, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Row)
  : [];
rmSync(dir, { recursive: true, force: true });

const minutes = ((Date.now() - started) / 60_000).toFixed(1);
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}`;
const date = new Date().toISOString().slice(0, 10);
const passed = run.status === 0;
const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
const table = [
  "| scenario | counts |",
  "| --- | --- |",
  ...rows.map((r) => `| ${r.scenario} | ${counts(r.counts)} |`),
].join("\n");
const section = `### ${date}: ${passed ? "all held" : "FAILED (see the run's output)"}\n\n${machine}; ${minutes} min${process.env.CHAOS_ROUNDS ? `; CHAOS_ROUNDS=${process.env.CHAOS_ROUNDS}` : ""}.\n\n${table}\n`;
console.log(`\n${section}`);

if (process.env.AIRLOCK_CHAOS_NO_WRITE !== "1" && rows.length > 0) {
  const head = `# Reliability

What \`npm run chaos\` (packages/server/test/chaos/) found, run against the real server, relays, sandboxes and
agents: SIGKILL of the server mid-turn in a loop (subscribers that come back and the JSON pages compared with the
stored log), SIGKILL with a permission request pending (answerable after the restart, exactly once), \`kill -9\`
of the relay (the session stops as an idle one and resumes), escape probes from inside an agent, and a fuzz of
every route (4xx, never 5xx, no state change, no host path). \`npm test\` runs a few rounds of each; this runs the
long loops. Kills of the agent process itself are not part of this suite yet.

## Latest run

`;
  const earlier = existsSync(reliability) ? readFileSync(reliability, "utf8").split("\n## Runs\n")[1] ?? "" : "";
  writeFileSync(reliability, `${head}${section}\n## Runs\n\n${section}${earlier.replace(/^\n+/, "\n")}`);
  console.log(`written to ${reliability}`);
}
process.exit(run.status ?? 1);
