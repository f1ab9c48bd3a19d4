/**
 * @module main — `node sandboxd.js CONFIG.json`: the relay's process. Started detached by the control plane
 * (stdio ignored), it outlives it: it serves the journal until the control plane has acknowledged the
 * agent's exit, or until nobody has asked for anything for an hour.
 */
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SandboxdConfig, SandboxdState } from "@airlock/protocol";
import { type Control, createHttp } from "./http.ts";
import { Journal } from "./journal.ts";
import { createLog } from "./log.ts";
import { Relay } from "./relay.ts";

const idleExitMs = 60 * 60 * 1000;
/** After a shutdown, how long the exit record stays readable when nobody acknowledges it. */
const shutdownLingerMs = 2000;

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write("usage: sandboxd CONFIG.json\n");
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, "utf8")) as SandboxdConfig;
const log = createLog(join(config.stateDir, "sandboxd.log"));
process.on("uncaughtException", (err) => log(`uncaught: ${err.stack ?? err}`));
process.on("unhandledRejection", (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? err}`));
// Detached with no terminal: a stray SIGHUP/SIGPIPE must not end the relay.
process.on("SIGHUP", () => log("SIGHUP ignored"));
process.on("SIGPIPE", () => {});

const statePath = join(config.stateDir, "sandboxd.json");
const journal = new Journal(join(config.stateDir, "journal.ndjson"), { log });
const relay = new Relay(config, journal, log);

let acked = 0;
let openRequests = 0;
let lastActivity = Date.now();
let exitAt = Infinity;
let exitTimer: NodeJS.Timeout | null = null;

/** Exits in `delayMs` unless an earlier exit is already due. */
function exitIn(delayMs: number, why: string): void {
  const at = Date.now() + delayMs;
  if (at >= exitAt) return;
  exitAt = at;
  if (exitTimer) clearTimeout(exitTimer);
  exitTimer = setTimeout(() => {
    log(`exiting: ${why}`);
    try {
      journal.close();
    } catch {}
    rmSync(statePath, { force: true });
    if ("socketPath" in config.listen) rmSync(config.listen.socketPath, { force: true });
    process.exit(0);
  }, delayMs);
}

/** Once the control plane holds the exit record there is nothing left to relay. */
function exitIfDone(): void {
  if (!relay.running && relay.exitRecordSeq > 0 && acked >= relay.exitRecordSeq) exitIn(100, "the exit record is acknowledged");
}

const control: Control = {
  get ackedSeq() {
    return acked;
  },
  ack(seq: number) {
    acked = Math.max(acked, Math.min(seq, journal.seq));
    exitIfDone();
    return acked;
  },
  async shutdown() {
    log("shutdown requested");
    await relay.stop();
    exitIn(shutdownLingerMs, "shut down");
  },
  begin() {
    openRequests++;
    lastActivity = Date.now();
  },
  end() {
    openRequests--;
    lastActivity = Date.now();
  },
};

const server = createHttp(config.token, journal, relay, control, log);
server.keepAliveTimeout = 60_000;
server.on("error", (err) => {
  log(`cannot listen: ${err.message}`);
  process.exit(1);
});
server.on("listening", () => {
  const address = server.address();
  let listen: SandboxdState["listen"];
  if ("socketPath" in config.listen) {
    chmodSync(config.listen.socketPath, 0o600);
    listen = config.listen;
  } else {
    listen = { host: config.listen.host, port: typeof address === "object" && address ? address.port : config.listen.port };
  }
  relay.start();
  const state: SandboxdState = { pid: process.pid, agentPid: relay.pid, listen, startedAt: Date.now() };
  writeFileSync(statePath + ".tmp", JSON.stringify(state), { mode: 0o600 });
  renameSync(statePath + ".tmp", statePath);
  log(`listening on ${JSON.stringify(listen)}; agent pid ${relay.pid}; journal at seq ${journal.seq}`);
});
if ("socketPath" in config.listen) {
  // A socket file left by an earlier run would make listen fail with EADDRINUSE.
  rmSync(config.listen.socketPath, { force: true });
  server.listen(config.listen.socketPath);
} else {
  server.listen(config.listen.port, config.listen.host);
}

void relay.exited.then(() => {
  log(`agent exited: ${JSON.stringify(relay.exit)} (exit record ${relay.exitRecordSeq})`);
  exitIfDone();
});

// An attached control plane always holds a request open (the journal stream): an hour with none open and
// none made means it is gone for good (its data deleted, a test run abandoned). Stop rather than leak.
let idleStopping = false;
setInterval(() => {
  if (idleStopping || openRequests > 0 || Date.now() - lastActivity < idleExitMs) return;
  idleStopping = true;
  log("no request for an hour: stopping");
  void relay.stop().then(() => exitIn(0, "idle for an hour"));
}, 60_000).unref();

process.on("SIGTERM", () => {
  log("SIGTERM");
  void relay.stop().then(() => exitIn(0, "SIGTERM"));
});
process.on("SIGINT", () => {
  log("SIGINT");
  void relay.stop().then(() => exitIn(0, "SIGINT"));
});
