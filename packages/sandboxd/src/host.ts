/**
 * @module host — a host relay: one process for the sandboxes of one host, each a session of its own (its
 * journal, agent, socket, token and state file, see session.ts). At a steady rate every event wakes its relay
 * once; a shared, warm process wakes for far less than one process per sandbox, and holds one heap.
 *
 * The control plane talks to it over `DIR/host.sock`, with the bearer token it wrote to `DIR/host.token`:
 *
 *   GET  /health              {pid, sessions}
 *   POST /sessions {config}   start the session whose config file is `config` (a running one of the same
 *                             folder is terminated first); answers once it listens
 *
 * The host writes `DIR/host.json` ({pid, startedAt}) once it listens, and ends a minute after its last session.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingMessage, createServer } from "node:http";
import { join } from "node:path";
import type { SandboxdConfig } from "@airlock/protocol";
import { createLog } from "./log.ts";
import { type Session, startSession } from "./session.ts";

const emptyExitMs = 60_000;
const maxBodyBytes = 64 * 1024;

export function runHost(dir: string): void {
  const log = createLog(join(dir, "host.log"));
  process.on("uncaughtException", (err) => log(`uncaught: ${err.stack ?? err}`));
  process.on("unhandledRejection", (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? err}`));
  process.on("SIGHUP", () => log("SIGHUP ignored"));
  const expected = digest(`Bearer ${readFileSync(join(dir, "host.token"), "utf8").trim()}`);
  const socketPath = join(dir, "host.sock");
  const statePath = join(dir, "host.json");
  const sessions = new Map<string, Session>();
  let emptyTimer: NodeJS.Timeout | null = null;
  // A short orphan grace (its sessions ended because no control plane was there) shortens the wait too.
  let emptyMs = emptyExitMs;

  const exit = (why: string) => {
    log(`exiting: ${why}`);
    rmSync(statePath, { force: true });
    rmSync(socketPath, { force: true });
    process.exit(0);
  };
  const whenEmpty = () => {
    if (emptyTimer) clearTimeout(emptyTimer);
    emptyTimer = sessions.size === 0 ? setTimeout(() => sessions.size === 0 && exit("no sandboxes left"), emptyMs) : null;
  };

  const add = async (configPath: string) => {
    const config = JSON.parse(readFileSync(configPath, "utf8")) as SandboxdConfig;
    if (config.orphanGraceMs) emptyMs = Math.min(emptyExitMs, Math.max(config.orphanGraceMs, 1000));
    const earlier = sessions.get(config.stateDir);
    if (earlier) {
      sessions.delete(config.stateDir);
      await earlier.terminate("replaced by a new start");
    }
    const session = startSession(config, {
      host: dir,
      onEnd: (why) => {
        if (sessions.get(config.stateDir) === session) sessions.delete(config.stateDir);
        log(`sandbox ${config.stateDir} ended: ${why}`);
        whenEmpty();
      },
    });
    sessions.set(config.stateDir, session);
    whenEmpty();
    try {
      await session.listening;
    } catch (err) {
      sessions.delete(config.stateDir);
      whenEmpty();
      throw err;
    }
    log(`sandbox ${config.stateDir} started (${sessions.size} in all)`);
  };

  const server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (!timingSafeEqual(digest(req.headers.authorization ?? ""), expected)) {
      req.resume();
      return answer(401, { error: { code: "unauthorized", message: "missing or wrong bearer token" } });
    }
    if (req.method === "GET" && req.url === "/health") return answer(200, { pid: process.pid, sessions: sessions.size });
    if (req.method === "POST" && req.url === "/sessions") {
      void readJson(req)
        .then((body) => {
          if (typeof (body as { config?: unknown })?.config !== "string") throw new Error("give {config: PATH}");
          return add((body as { config: string }).config);
        })
        .then(
          () => answer(200, { pid: process.pid }),
          (err: Error) => answer(400, { error: { code: "bad_request", message: err.message } }),
        );
      return;
    }
    req.resume();
    answer(404, { error: { code: "not_found", message: `${req.method} ${req.url} is not served here` } });
  });
  server.on("error", (err) => {
    log(`cannot listen: ${err.message}`);
    process.exit(1);
  });
  rmSync(socketPath, { force: true });
  server.listen(socketPath, () => {
    chmodSync(socketPath, 0o600);
    writeFileSync(`${statePath}.tmp`, JSON.stringify({ pid: process.pid, startedAt: Date.now() }), { mode: 0o600 });
    renameSync(`${statePath}.tmp`, statePath);
    log(`host relay listening on ${socketPath}`);
    whenEmpty();
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      log(signal);
      void Promise.all([...sessions.values()].map((s) => s.terminate(signal))).then(() => exit(signal));
    });
  }
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > maxBodyBytes) req.destroy(new Error("body too large"));
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new Error("the body is not JSON"));
      }
    });
    req.on("error", reject);
  });
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
