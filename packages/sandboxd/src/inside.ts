/**
 * @module inside — starts a shell line inside the sandbox (through its wrap, as the agent's user, in the
 * workspace, with the agent's environment) in a process group of its own, and probes a port from inside.
 * Shared by setup commands and services (prepare.ts, services.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { connect } from "node:net";
import { killGroup } from "./terminals.ts";

export interface InsideOptions {
  /** The sandbox's wrap (empty when sandboxd already runs inside, as on E2B). */
  wrap: string[];
  env: Record<string, string>;
  /** The workspace as sandboxd sees it: the cwd of the spawn (the wrap changes into the sandbox's own). */
  cwd: string;
}

/** `sh -c LINE` inside the sandbox, stdin closed, stdout and stderr piped. */
export function spawnInside(options: InsideOptions, line: string): ChildProcess {
  const argv = [...options.wrap, "sh", "-c", line];
  return spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopGroup(proc: ChildProcess, graceMs = 2000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  killGroup(proc, "SIGTERM");
  const timer = setTimeout(() => killGroup(proc, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

// Runs inside the sandbox with Node: a TCP connect to the port on localhost (IPv4 or IPv6), or an HTTP GET of
// the path that must answer 2xx/3xx. Exit 0 when ready.
const probeScript = `const [port, path] = process.argv.slice(1);
setTimeout(() => process.exit(1), 3000).unref();
if (path) require("http").get({ host: "localhost", port: +port, path }, (r) => process.exit(r.statusCode >= 200 && r.statusCode < 400 ? 0 : 1)).on("error", () => process.exit(1));
else require("net").connect({ host: "localhost", port: +port, autoSelectFamily: true }, () => process.exit(0)).on("error", () => process.exit(1));`;

/**
 * Whether something inside the sandbox answers on `port` (and `path`, when given). With no wrap sandboxd shares
 * the sandbox's network and probes itself; with a wrap (local sandboxes) the probe runs inside, where the
 * services listen.
 */
export function probe(options: InsideOptions, port: number, path: string | undefined): Promise<boolean> {
  if (options.wrap.length === 0) return probeHere(port, path);
  return new Promise((resolve) => {
    const argv = [...options.wrap, process.execPath, "-e", probeScript, String(port), path ?? ""];
    let proc: ChildProcess;
    try {
      proc = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env, detached: true, stdio: "ignore" });
    } catch {
      return resolve(false);
    }
    const timer = setTimeout(() => killGroup(proc, "SIGKILL"), 5000);
    proc.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

function probeHere(port: number, path: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 3000);
    if (path) {
      const req = request({ host: "localhost", port, path, method: "GET" }, (res) => {
        res.resume();
        done(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
      });
      req.on("error", () => done(false));
      req.setTimeout(3000, () => req.destroy());
      req.end();
    } else {
      const socket = connect({ host: "localhost", port, autoSelectFamily: true }, () => {
        socket.destroy();
        done(true);
      });
      socket.on("error", () => done(false));
    }
  });
}
