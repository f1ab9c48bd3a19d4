/**
 * @module main — `npm start`: one Airlock node with the embedded defaults (SQLite, local sandbox).
 */
import { startAirlock } from "./app.ts";
import { readConfig } from "./config.ts";

const config = readConfig();
const airlock = await startAirlock(config);
console.log(`\n  Airlock is running at ${airlock.url}\n  data: ${config.dataDir}\n`);

let closing = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (closing) process.exit(1);
    closing = true;
    // Sandboxes keep running: the next start re-attaches to them.
    void airlock.close().then(() => process.exit(0));
  });
}
