/**
 * @module main — the relay's process, started detached by the control plane (stdio ignored); it outlives it.
 *
 *   node sandboxd.js CONFIG.json      one sandbox's relay; the process ends with the session (session.ts)
 *   node sandboxd.js --host DIR       a host relay: the sandboxes of one host, added over DIR/host.sock (host.ts)
 */
import { readFileSync } from "node:fs";
import type { SandboxdConfig } from "@airlock/protocol";
import { runHost } from "./host.ts";
import { startSession } from "./session.ts";

const [first, second] = process.argv.slice(2);
// Detached with no terminal: a stray SIGHUP/SIGPIPE must not end the relay.
process.on("SIGPIPE", () => {});

if (first === "--host" && second) {
  runHost(second);
} else if (first && !first.startsWith("--")) {
  const config = JSON.parse(readFileSync(first, "utf8")) as SandboxdConfig;
  const session = startSession(config, { onEnd: () => process.exit(0) });
  const { log } = session;
  process.on("uncaughtException", (err) => log(`uncaught: ${err.stack ?? err}`));
  process.on("unhandledRejection", (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? err}`));
  process.on("SIGHUP", () => log("SIGHUP ignored"));
  session.listening.catch(() => process.exit(1));
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => void session.terminate(signal));
} else {
  process.stderr.write("usage: sandboxd CONFIG.json | sandboxd --host DIR\n");
  process.exit(2);
}
