/**
 * @module main — `npm start`: one Airlock node (embedded SQLite, or PostgreSQL with DATABASE_URL; local sandboxes).
 */
import { AirlockError } from "@airlock/protocol";
import { startAirlock } from "./app.ts";
import { readConfig } from "./config.ts";

const config = readConfig();
const airlock = await startAirlock(config).catch((err: Error) => {
  // A database that cannot be reached is the operator's to fix, not a crash to debug: what, not where.
  console.error(`Airlock could not start: ${AirlockError.is(err) ? err.message : err.stack}`);
  process.exit(1);
});
console.log(`\n  Airlock is running at ${airlock.url}\n  data: ${config.dataDir}\n  store: ${airlock.store.kind}\n`);

// A promise that rejects unobserved is a bug to fix, but not a reason to drop every session this node drives.
process.on("unhandledRejection", (err) => airlock.log.error({ err }, "unhandled rejection (a bug: please report it with this log)"));

let closing = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    // Sandboxes keep running: the next start re-attaches to them.
    void airlock.close().then(() => process.exit(0));
  });
}
