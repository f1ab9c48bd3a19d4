/**
 * @module checkpointer — moves SQLite's WAL checkpoints off the event loop.
 *
 * An automatic checkpoint runs inside whichever commit crosses the threshold and copies megabytes into the
 * database file, stalling every stream for milliseconds. Instead the main connection never checkpoints and a
 * worker thread, with its own connection, runs PASSIVE checkpoints (which never block writers) on a timer.
 */
import { Worker } from "node:worker_threads";
import { createRequire } from "node:module";

const workerCode = `
const { workerData, parentPort } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 5000");
const timer = setInterval(() => {
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
}, workerData.everyMs);
parentPort.on("message", () => {
  clearInterval(timer);
  try { db.pragma("wal_checkpoint(TRUNCATE)"); } catch {}
  db.close();
  parentPort.postMessage("closed");
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(path: string, everyMs = 1000): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(workerCode, { eval: true, workerData: { path, everyMs, driver } });
  worker.unref();
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        const timeout = setTimeout(() => void worker.terminate().then(() => resolve()), 2000);
        worker.once("message", () => {
          clearTimeout(timeout);
          void worker.terminate().then(() => resolve());
        });
        worker.postMessage("close");
      }),
  };
}
