/**
 * @module local — the embedded default provider: a folder per sandbox on this host, agents under bubblewrap,
 * sandboxd started detached next to them (outside the agent's mounts, so the agent cannot touch its journal).
 *
 *   <dataDir>/sandboxes/<sessionId>/
 *     workspace/     the agent's read-write folder (/workspace inside)
 *     home/          the agent's private HOME (/home/agent inside)
 *     relay/         sandboxd's config, journal, socket and log
 *     baseline.git/  the workspace at session start, for diffs
 *     etc/           passwd and group shown inside
 *     labels.json    who owns this sandbox (orphan reaping)
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  type AgentLaunch,
  AirlockError,
  type SandboxHandle,
  type SandboxProviderV1,
  type SandboxRef,
  type SandboxSpec,
  type SandboxdConfig,
  type SandboxdEndpoint,
  type SandboxdState,
  badRequest,
} from "@airlock/protocol";
import { SandboxdClient, waitForSandboxd } from "@airlock/sandboxd";
import { bwrapArgs, group, passwd, sandboxHome, sandboxWorkspace } from "./bwrap.ts";
import { type Limits, createCgroups, defaultLimits, limitPrefix, removeCgroups } from "./limits.ts";
import { preflight, which } from "./preflight.ts";
import { diffWorkspace, makeBaseline, readWorkspace, seedFiles } from "./workspace.ts";

export interface LocalProviderOptions {
  dataDir: string;
  /** The bundled relay, `packages/sandboxd/dist/sandboxd.js`. */
  sandboxdPath: string;
  installationId: string;
  limits?: Partial<Limits>;
}

/** Unix socket paths are limited to 107 bytes; past that, sandboxd listens on loopback TCP instead. */
const maxSocketPath = 100;

export function createLocalProvider(options: LocalProviderOptions): SandboxProviderV1 {
  const root = resolve(options.dataDir, "sandboxes");
  const limits: Limits = { ...defaultLimits, ...options.limits };
  const bwrap = which("bwrap") ?? "bwrap";
  const prlimit = which("prlimit");
  const dirOf = (id: string) => join(root, id);

  const handle = (id: string): SandboxHandle => {
    const dir = dirOf(id);
    const paths = {
      workspace: join(dir, "workspace"),
      home: join(dir, "home"),
      relay: join(dir, "relay"),
      baseline: join(dir, "baseline.git"),
      etc: join(dir, "etc"),
    };
    const ref: SandboxRef = { provider: "local", id, data: { dir } };

    const readState = (): SandboxdState | null => {
      try {
        return JSON.parse(readFileSync(join(paths.relay, "sandboxd.json"), "utf8"));
      } catch {
        return null;
      }
    };
    const endpointOf = (state: SandboxdState, token: string): SandboxdEndpoint =>
      "socketPath" in state.listen ? { token, socketPath: state.listen.socketPath } : { token, url: `http://${state.listen.host}:${state.listen.port}` };

    return {
      ref,
      workspacePath: sandboxWorkspace,

      async startSandboxd(launch: AgentLaunch, token: string): Promise<SandboxdEndpoint> {
        if (!existsSync(options.sandboxdPath)) {
          throw new AirlockError("unavailable", `the sandbox relay is not built (${options.sandboxdPath}); run \`npm run build -w @airlock/sandboxd\``);
        }
        mkdirSync(paths.relay, { recursive: true, mode: 0o700 });
        // A relay still winding down (a resume right after an idle stop) must be gone before the next one
        // takes over its socket and state files.
        const previous = readState();
        if (previous && alive(previous.pid)) {
          const config = readConfig(paths.relay);
          if (config) await new SandboxdClient(endpointOf(previous, config.token)).shutdown().catch(() => {});
          const until = Date.now() + 3000;
          while (alive(previous.pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
          killTree(previous.pid, previous.agentPid);
        }
        for (const [file, content] of Object.entries(launch.homeFiles ?? {})) {
          const target = resolve(paths.home, file);
          if (!target.startsWith(paths.home + "/")) throw badRequest(`home file ${file} is outside the agent's home`);
          mkdirSync(dirname(target), { recursive: true });
          writeFileSync(target, content);
        }
        const cgroupProcs = createCgroups(id, limits);
        const wrap = [
          ...limitPrefix(cgroupProcs, limits, prlimit),
          ...bwrapArgs(
            { workspace: paths.workspace, home: paths.home, passwdFile: join(paths.etc, "passwd"), groupFile: join(paths.etc, "group"), readOnlyPaths: launch.readOnlyPaths ?? [], binds: launch.binds },
            bwrap,
          ),
        ];
        const socketPath = join(paths.relay, "sandboxd.sock");
        const config: SandboxdConfig = {
          token,
          listen: socketPath.length <= maxSocketPath ? { socketPath } : { host: "127.0.0.1", port: 0 },
          stateDir: paths.relay,
          workspace: { hostPath: paths.workspace, sandboxPath: sandboxWorkspace },
          agent: {
            argv: launch.argv,
            env: { PATH: "/usr/local/bin:/usr/bin:/bin", USER: "agent", TMPDIR: "/tmp", ...launch.env, HOME: sandboxHome },
          },
          wrap,
        };
        const configPath = join(paths.relay, "config.json");
        writeFileSync(configPath, JSON.stringify(config), { mode: 0o600 });
        rmSync(join(paths.relay, "sandboxd.json"), { force: true });
        // Detached, in its own session, with none of the server's environment: it outlives the server.
        const child = spawn(process.execPath, [options.sandboxdPath, configPath], {
          detached: true,
          stdio: "ignore",
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
          cwd: paths.relay,
        });
        child.unref();
        const until = Date.now() + 10_000;
        let state = readState();
        while (!state && Date.now() < until) {
          if (child.exitCode !== null) break;
          await new Promise((r) => setTimeout(r, 10));
          state = readState();
        }
        if (!state) throw new AirlockError("unavailable", `the sandbox relay did not start: ${logTail(paths.relay)}`);
        const endpoint = endpointOf(state, token);
        await waitForSandboxd(endpoint, 10_000);
        return endpoint;
      },

      async findSandboxd(token: string): Promise<SandboxdEndpoint | null> {
        const state = readState();
        if (!state || !alive(state.pid)) return null;
        const endpoint = endpointOf(state, token);
        try {
          await new SandboxdClient(endpoint).health(3000);
          return endpoint;
        } catch {
          return null;
        }
      },

      async readWorkspace(path: string) {
        return readWorkspace(paths.workspace, path);
      },

      async diff() {
        return diffWorkspace(paths.baseline, paths.workspace);
      },

      async destroy(): Promise<void> {
        const state = readState();
        if (state && alive(state.pid)) {
          const config = readConfig(paths.relay);
          if (config) await new SandboxdClient(endpointOf(state, config.token)).shutdown().catch(() => {});
          const until = Date.now() + 3000;
          while (alive(state.pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
          killTree(state.pid, state.agentPid);
        }
        removeCgroups(id);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };

  return {
    specificationVersion: "v1",
    name: "local",
    capabilities: { pause: false, network: false, keepAlive: false },

    async preflight() {
      const report = preflight();
      if (!existsSync(options.sandboxdPath)) {
        report.problems.push({ code: "relay_missing", message: `the sandbox relay is not built (${options.sandboxdPath})`, fix: "run `npm ci` or `npm run build -w @airlock/sandboxd`" });
        report.ok = false;
      }
      return report;
    },

    async create(spec: SandboxSpec, onProgress) {
      if (spec.network) throw badRequest("local sandboxes have no network access; create the session without `network`");
      if (spec.seed?.git) throw badRequest("workspace.git needs a sandbox with network access; upload the files with workspace.files instead");
      const dir = dirOf(spec.sessionId);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const sub of ["workspace", "home", "relay", "etc"]) mkdirSync(join(dir, sub), { recursive: true });
      writeFileSync(join(dir, "labels.json"), JSON.stringify(spec.labels));
      writeFileSync(join(dir, "etc", "passwd"), passwd);
      writeFileSync(join(dir, "etc", "group"), group);
      const h = handle(spec.sessionId);
      try {
        if (spec.seed?.files) {
          onProgress?.("writing workspace files");
          seedFiles(join(dir, "workspace"), spec.seed.files);
        }
        onProgress?.("recording the workspace baseline");
        if (which("git")) await makeBaseline(join(dir, "baseline.git"), join(dir, "workspace"));
      } catch (err) {
        await h.destroy();
        throw err;
      }
      return h;
    },

    async connect(ref: SandboxRef) {
      return existsSync(dirOf(ref.id)) ? handle(ref.id) : null;
    },

    async list(labels: Record<string, string>) {
      if (!existsSync(root)) return [];
      const refs: SandboxRef[] = [];
      for (const id of readdirSync(root)) {
        try {
          const own = JSON.parse(readFileSync(join(root, id, "labels.json"), "utf8")) as Record<string, string>;
          if (Object.entries(labels).every(([k, v]) => own[k] === v)) refs.push({ provider: "local", id, data: { dir: join(root, id) } });
        } catch {
          // not a sandbox folder
        }
      }
      return refs;
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killTree(pid: number, agentPid: number | null): void {
  for (const target of [agentPid ? -agentPid : 0, pid]) {
    if (!target) continue;
    try {
      process.kill(target, "SIGKILL");
    } catch {}
  }
}

function readConfig(relay: string): SandboxdConfig | null {
  try {
    return JSON.parse(readFileSync(join(relay, "config.json"), "utf8"));
  } catch {
    return null;
  }
}

function logTail(relay: string): string {
  try {
    return readFileSync(join(relay, "sandboxd.log"), "utf8").split("\n").slice(-10).join("\n");
  } catch {
    return "no log";
  }
}
