/**
 * @module main — `node sandboxd.js CONFIG.json`: the relay's process. Runs detached from the control plane.
 */
import { appendFileSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SandboxdConfig, SandboxdState } from "@airlock/protocol";
import { createHttp } from "./http.ts";
import { Journal } from "./journal.ts";
import { Relay } from "./relay.ts";

const maxLogBytes = 1024 * 1024;
const idleExitMs = 60 * 60 * 1000;

const configPath = process.argv[2];
if (!configPath) {
  console.error("usage: sandboxd CONFIG.json");
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, "utf8")) as SandboxdConfig;
const logPath = join(config.stateDir, "sandboxd.log");
const log = (msg: string) => {
  try {
    if ((statSync(logPath, { throwIfNoEntry: false })?.size ?? 0) > maxLogBytes) renameSync(logPath, logPath + ".1");
    appendFileSync(logPath, `${new Date().toISOString()} ${msg}\n`);
  } catch {}
};
process.on("uncaughtException", (err) => log(`uncaught: ${err.stack ?? err}`));

const journal = new Journal(join(config.stateDir, "journal.ndjson"));
const relay = new Relay(config, journal, log);
let lastRequest = Date.now();
let exiting = false;

const exitSoon = (delayMs: number) => {
  if (exiting) return;
  exiting = true;
  setTimeout(() => {
    journal.close();
    server.close();
    rmSync(join(config.stateDir, "sandboxd.json"), { force: true });
    if ("socketPath" in config.listen) rmSync(config.listen.socketPath, { force: true });
    log("exiting");
    process.exit(0);
  }, delayMs).unref();
};

const control = {
  acked: 0,
  onAck(seq: number) {
    control.acked = Math.max(control.acked, seq);
    // Once the control plane holds the exit record there is nothing left to relay.
    if (!relay.running && relay.exitRecordSeq > 0 && control.acked >= relay.exitRecordSeq) exitSoon(100);
  },
  async shutdown() {
    log("shutdown requested");
    await relay.stop();
    exitSoon(2000);
  },
  touch() {
    lastRequest = Date.now();
  },
};

const server = createHttp(config.token, journal, relay, control);
server.keepAliveTimeout = 60_000;
if ("socketPath" in config.listen) {
  rmSync(config.listen.socketPath, { force: true });
  server.listen(config.listen.socketPath);
} else {
  server.listen(config.listen.port, config.listen.host);
}
server.on("listening", () => {
  const address = server.address();
  const listen = "socketPath" in config.listen ? config.listen : { host: config.listen.host, port: typeof address === "object" && address ? address.port : config.listen.port };
  relay.start();
  const state: SandboxdState = { pid: process.pid, agentPid: relay.pid, listen, startedAt: Date.now() };
  const file = join(config.stateDir, "sandboxd.json");
  writeFileSync(file + ".tmp", JSON.stringify(state));
  renameSync(file + ".tmp", file);
  log(`listening; agent pid ${relay.pid}`);
});

setInterval(() => {
  if (Date.now() - lastRequest > idleExitMs) {
    log("no request for an hour: stopping");
    void relay.stop().then(() => exitSoon(0));
  }
}, 60_000).unref();

process.on("SIGTERM", () => {
  void relay.stop().then(() => exitSoon(0));
});
