/**
 * @module session — one sandbox's relay: its journal, its agent, its HTTP API on its own socket with its own
 * token, and the state file the control plane finds it by. A sandboxd process runs one (`sandboxd CONFIG`), or,
 * as a host relay, several (see host.ts): a session never sees the others.
 *
 * A session ends once the control plane has acknowledged the agent's exit record; after `orphanGraceMs`
 * (default an hour) in which nobody asked for anything, the control plane is taken to be gone (stopped,
 * killed) and the agent is stopped, the journal kept so the session resumes at the next start; and at once
 * when the sandbox's folders are gone (deleted behind the relay's back). `onEnd` is then told (the
 * single-session process exits, a host forgets it).
 */
import { chmodSync, existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SandboxdConfig, SandboxdState } from "@airlock/protocol";
import { type Control, createHttp } from "./http.ts";
import { Journal } from "./journal.ts";
import { createLog } from "./log.ts";
import { Relay } from "./relay.ts";

const defaultOrphanGraceMs = 60 * 60 * 1000;
/** How often the relay looks whether its folders are still there. */
const folderCheckMs = 2000;
/** After a shutdown, how long the exit record stays readable when nobody acknowledges it. */
const shutdownLingerMs = 2000;

export interface SessionOptions {
  /** Set for a session of a host relay: written to the state file, so that nobody kills the shared process. */
  host?: string;
  /** The session is over and has released everything; `why` for the log. */
  onEnd(why: string): void;
}

export interface Session {
  readonly stateDir: string;
  readonly log: (msg: string) => void;
  /** Resolves once the session listens and its state file is written. */
  readonly listening: Promise<void>;
  /** Stops the agent (its end of input, SIGTERM, SIGKILL), then ends the session. */
  terminate(why: string): Promise<void>;
}

export function startSession(config: SandboxdConfig, options: SessionOptions): Session {
  const log = createLog(join(config.stateDir, "sandboxd.log"));
  const statePath = join(config.stateDir, "sandboxd.json");
  const journal = new Journal(join(config.stateDir, "journal.ndjson"), { log });
  const relay = new Relay(config, journal, log);

  let acked = 0;
  let openRequests = 0;
  let lastActivity = Date.now();
  let endAt = Infinity;
  let endTimer: NodeJS.Timeout | null = null;
  let ended = false;

  /** Releases everything (once): journal, socket, state file. */
  function end(why: string): void {
    if (ended) return;
    ended = true;
    if (endTimer) clearTimeout(endTimer);
    log(`exiting: ${why}`);
    clearInterval(idleCheck);
    try {
      journal.close();
    } catch {}
    server.close();
    server.closeAllConnections();
    rmSync(statePath, { force: true });
    if ("socketPath" in config.listen) rmSync(config.listen.socketPath, { force: true });
    options.onEnd(why);
  }

  /** Ends in `delayMs` unless an earlier end is already due. */
  function endIn(delayMs: number, why: string): void {
    const at = Date.now() + delayMs;
    if (at >= endAt || ended) return;
    endAt = at;
    if (endTimer) clearTimeout(endTimer);
    endTimer = setTimeout(() => end(why), delayMs);
  }

  /** Once the control plane holds the exit record there is nothing left to relay. */
  function endIfDone(): void {
    if (!relay.running && relay.exitRecordSeq > 0 && acked >= relay.exitRecordSeq) endIn(100, "the exit record is acknowledged");
  }

  const control: Control = {
    get ackedSeq() {
      return acked;
    },
    ack(seq: number) {
      acked = Math.max(acked, Math.min(seq, journal.seq));
      endIfDone();
      return acked;
    },
    async shutdown() {
      log("shutdown requested");
      await relay.stop();
      endIn(shutdownLingerMs, "shut down");
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
  const listening = new Promise<void>((resolve, reject) => {
    server.on("error", (err) => {
      log(`cannot listen: ${err.message}`);
      reject(err);
    });
    server.once("listening", () => {
      const address = server.address();
      let listen: SandboxdState["listen"];
      if ("socketPath" in config.listen) {
        chmodSync(config.listen.socketPath, 0o600);
        listen = config.listen;
      } else {
        listen = { host: config.listen.host, port: typeof address === "object" && address ? address.port : config.listen.port };
      }
      relay.start();
      const state: SandboxdState = { pid: process.pid, agentPid: relay.pid, listen, startedAt: Date.now(), ...(options.host ? { host: options.host } : {}) };
      writeFileSync(statePath + ".tmp", JSON.stringify(state), { mode: 0o600 });
      renameSync(statePath + ".tmp", statePath);
      log(`listening on ${JSON.stringify(listen)}; agent pid ${relay.pid}; journal at seq ${journal.seq}${options.host ? `; in host relay ${process.pid}` : ""}`);
      resolve();
    });
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
    endIfDone();
  });

  // An attached control plane always holds a request open (the journal stream): the grace with none open and
  // none made means it is gone (stopped, killed, its data deleted). Stop the agent rather than leak it; the
  // journal stays, and the control plane's next start finds no relay and resumes the session from it.
  const graceMs = Math.max(config.orphanGraceMs ?? defaultOrphanGraceMs, 1000);
  let idleStopping = false;
  const stopOrphan = (why: string) => {
    if (idleStopping || ended) return;
    idleStopping = true;
    log(why);
    void relay.stop().then(() => endIn(0, why));
  };
  const idleCheck = setInterval(
    () => {
      // Deleted behind its back (the data folder removed by hand): nothing is left to keep the agent for.
      if (!existsSync(config.stateDir) || !existsSync(config.workspace.hostPath)) return stopOrphan("the sandbox's folder is gone: stopping at once");
      if (openRequests > 0 || Date.now() - lastActivity < graceMs) return;
      stopOrphan(`no control plane for ${Math.round(graceMs / 1000)} s (the orphan grace): stopping the agent, keeping the journal`);
    },
    Math.min(folderCheckMs, graceMs),
  );
  idleCheck.unref();

  return {
    stateDir: config.stateDir,
    log,
    listening,
    async terminate(why) {
      log(why);
      await relay.stop();
      // At once, not on a timer: a new session of the same sandbox may start right after and take the paths.
      end(why);
    },
  };
}
