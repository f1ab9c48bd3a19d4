/**
 * @module local — the embedded default provider: a folder per sandbox on this host, agents under bubblewrap,
 * sandboxd started detached next to them (outside the agent's mounts, so the agent cannot touch its journal).
 *
 *   <dataDir>/sandboxes/<sessionId>/       mode 0700
 *     workspace/     the agent's read-write folder (/workspace inside)
 *     home/          the agent's private HOME (/home/agent inside)
 *     relay/         sandboxd's config, journal, socket and log
 *     baseline.git/  the workspace at session start, for diffs
 *     etc/           passwd, group, hosts (and resolv.conf) shown inside
 *     labels.json    who owns this sandbox (orphan reaping)
 *     sandbox.json   network and limits, for a restart of the agent in the kept sandbox
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AgentLaunch,
  AirlockError,
  type SandboxHandle,
  type SandboxProviderV1,
  type SandboxRef,
  type SandboxSpec,
  type SandboxdConfig,
  type SandboxdEndpoint,
  badRequest,
  conflict,
} from "@airlock/protocol";
import { withUserPrefix } from "../user-prefix.ts";
import { bwrapArgs, etcFiles, sandboxHome, sandboxWorkspace, splitEnv } from "./bwrap.ts";
import { diffWorkspace, gitAvailable, makeBaseline } from "./diff.ts";
import { hostLayout, which } from "./host.ts";
import { type Limits, createCgroups, defaultLimits, limitPrefix, removeCgroups, sweepCgroups } from "./limits.ts";
import { preflight } from "./preflight.ts";
import { HostRelay } from "./host-relay.ts";
import { ensureSharedNet, sharedNetSupport, stopSharedNet } from "./netns.ts";
import { hidingHostPaths } from "./host-paths.ts";
import { type Relay, findRelay, forgetEnv, runningRelay, startRelay, stopRelay } from "./sandboxd.ts";
import { cloneRepository, readWorkspace, seedFiles, writeInside } from "./workspace.ts";

export interface LocalProviderOptions {
  dataDir: string;
  /** The bundled relay, `packages/sandboxd/dist/sandboxd.js`. */
  sandboxdPath: string;
  installationId: string;
  /** Defaults for every sandbox (a session's own `resources` win): 2 GiB, 512 processes, 1 GiB files. */
  resources?: Partial<Limits>;
  /** Relay every sandbox from one shared sandboxd process (default), or each from a process of its own. */
  sharedRelay?: boolean;
}

/** What create() records for a later start of the agent in the same sandbox. */
interface Stored {
  network: boolean;
  limits: Limits;
}

export const netWrapPath = fileURLToPath(new URL("./net-wrap.mjs", import.meta.url));
/** Unix socket paths are limited to 107 bytes; past that, sandboxd listens on loopback TCP instead. */
const maxSocketPath = 100;
const validId = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function createLocalProvider(options: LocalProviderOptions): SandboxProviderV1 {
  const dataDir = resolve(options.dataDir);
  const root = join(dataDir, "sandboxes");
  // Made at the first start: it reads the relay bundle, which may be built after the provider is made.
  let hostRelay: HostRelay | undefined;
  const hostRelayOf = () => (options.sharedRelay === false ? undefined : (hostRelay ??= new HostRelay(dataDir, options.sandboxdPath)));
  const defaults: Limits = { ...defaultLimits, ...definedOnly(options.resources ?? {}) };
  // Never visible inside, whatever an agent asks for read-only.
  const forbidden = [dataDir, homedir()];

  const dirOf = (id: string) => {
    // The id names a folder that destroy() removes: it must not climb out of the sandboxes folder.
    if (!validId.test(id) || id.includes("..")) throw badRequest(`invalid sandbox id ${JSON.stringify(id)}`);
    return join(root, id);
  };

  const requireHost = () => {
    const host = hostLayout();
    if (!host) throw new AirlockError("unavailable", "local sandboxes need bubblewrap, which is not installed: `apt-get install bubblewrap`");
    return host;
  };
  const requireSlirp = () => {
    const slirp = which("slirp4netns");
    if (!slirp) throw badRequest("network access for local sandboxes needs slirp4netns, which is not installed on the Airlock host: `apt-get install slirp4netns` (or create the session without `network`)");
    // slirp4netns must enter the network namespace bwrap made, which belongs to a user namespace the
    // sandboxed process has already left: only root may enter it directly (see net-wrap.mjs).
    if (process.getuid?.() !== 0) throw badRequest("network access for local sandboxes needs Airlock to run as root (create the session without `network`)");
    return slirp;
  };

  /** One sandbox's folders, stored settings and wrap. */
  const sandbox = (id: string) => {
    const dir = dirOf(id);
    const paths = {
      dir,
      workspace: join(dir, "workspace"),
      home: join(dir, "home"),
      relay: join(dir, "relay"),
      baseline: join(dir, "baseline.git"),
      etc: join(dir, "etc"),
    };
    const stored = (): Stored => {
      try {
        return JSON.parse(readFileSync(join(dir, "sandbox.json"), "utf8")) as Stored;
      } catch {
        return { network: false, limits: defaults };
      }
    };
    /** The argv prefix every process of this sandbox runs under (the agent and its terminal commands). */
    /** With `sharedNet` (a namespace path, see netns.ts) every process joins it instead of making its own. */
    const wrapFor = (launch: Pick<AgentLaunch, "readOnlyPaths" | "binds">, inside: Record<string, string>, cgroupProcs: string[], s: Stored, sharedNet?: { nsenter: string; path: string }) => {
      const bwrap = bwrapArgs(
        { workspace: paths.workspace, home: paths.home, etcDir: paths.etc, readOnlyPaths: launch.readOnlyPaths ?? [], binds: launch.binds, network: s.network, shareNet: !!sharedNet, setenv: inside, forbidden },
        requireHost(),
      );
      const net = sharedNet ? [sharedNet.nsenter, `--net=${sharedNet.path}`, "--"] : s.network ? [process.execPath, netWrapPath, requireSlirp()] : [];
      return [...limitPrefix(cgroupProcs, s.limits, which("prlimit")), ...net, ...bwrap];
    };
    /** The sandbox's shared network namespace (its holder started when none lives); null where it cannot be shared. */
    const sharedNet = async (s: Stored) => {
      const nsenter = sharedNetSupport();
      if (!nsenter) return undefined;
      const holder = bwrapArgs({ workspace: paths.workspace, home: paths.home, etcDir: paths.etc, readOnlyPaths: [], network: s.network, outliveParent: true, forbidden }, requireHost());
      const net = s.network ? [process.execPath, netWrapPath, requireSlirp()] : [];
      return { nsenter, path: await ensureSharedNet(paths.relay, [...net, ...holder]) };
    };
    return { paths, stored, wrapFor, sharedNet };
  };

  const handle = (id: string): SandboxHandle => {
    const { paths, stored, wrapFor, sharedNet } = sandbox(id);
    const dir = paths.dir;
    const relay: Relay = { dir: paths.relay, marker: id };

    return {
      ref: { provider: "local", id, data: { dir } },
      workspacePath: sandboxWorkspace,

      async startSandboxd(launch: AgentLaunch, token: string, signal?: AbortSignal): Promise<SandboxdEndpoint> {
        if (!existsSync(dir)) throw conflict("this sandbox no longer exists");
        if (!existsSync(options.sandboxdPath)) {
          throw new AirlockError("unavailable", "the sandbox relay is not built; run `npm run build -w @airlock/sandboxd` on the Airlock host");
        }
        // A retried start: the agent runs already (and must not see its home rewritten under it).
        const running = await runningRelay(relay, token);
        if (running) return running;
        const s = stored();
        // Written again on every start: a sandbox made by an older version may lack some.
        mkdirSync(paths.etc, { recursive: true });
        mkdirSync(paths.relay, { recursive: true, mode: 0o700 });
        for (const [name, content] of Object.entries(etcFiles(s.network))) writeFileSync(join(paths.etc, name), content);
        for (const [file, content] of Object.entries(launch.homeFiles ?? {})) writeInside(paths.home, file, content, "replace", "home file");
        const runtimeBin = dirname(process.execPath).startsWith("/usr/") ? [] : [dirname(process.execPath)];
        const env = {
          PATH: [...runtimeBin, "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
          USER: "agent",
          LOGNAME: "agent",
          LANG: "C.UTF-8",
          TMPDIR: "/tmp",
          ...launch.env,
          HOME: sandboxHome,
        };
        withUserPrefix(env, sandboxHome);
        const { host: hostEnv, inside } = splitEnv(env);
        const cgroupProcs = createCgroups(id, s.limits);
        const socketPath = join(paths.relay, "sandboxd.sock");
        const config: SandboxdConfig = {
          token,
          listen: socketPath.length <= maxSocketPath ? { socketPath } : { host: "127.0.0.1", port: 0 },
          stateDir: paths.relay,
          workspace: { hostPath: paths.workspace, sandboxPath: sandboxWorkspace },
          agent: { argv: launch.argv, env: hostEnv },
          wrap: wrapFor(launch, inside, cgroupProcs, s, await sharedNet(s)),
          cgroupProcs,
          ...(launch.setup ? { setup: launch.setup } : {}),
        };
        const endpoint = await startRelay(relay, options.sandboxdPath, config, signal, hostRelayOf());
        forgetEnv(relay, config);
        return endpoint;
      },

      findSandboxd(token: string) {
        return findRelay(relay, token);
      },

      async readWorkspace(path: string) {
        if (!existsSync(paths.workspace)) throw conflict("this sandbox no longer exists");
        return readWorkspace(paths.workspace, path);
      },

      diff() {
        return diffWorkspace(paths.baseline, paths.workspace);
      },

      async destroy(): Promise<void> {
        await stopRelay(relay);
        stopSharedNet(paths.relay);
        await removeCgroups(id);
        removeTree(dir);
      },

    };
  };

  const provider: SandboxProviderV1 = {
    specificationVersion: "v1",
    name: "local",
    get capabilities() {
      return { pause: false, network: which("slirp4netns") !== null && process.getuid?.() === 0, keepAlive: false };
    },

    async preflight() {
      const report = await preflight(forbidden);
      if (!existsSync(options.sandboxdPath)) {
        report.problems.push({ code: "relay_missing", message: `the sandbox relay is not built (${options.sandboxdPath})`, fix: "run `npm ci`, or `npm run build -w @airlock/sandboxd`" });
        report.ok = false;
      }
      return report;
    },

    async create(spec: SandboxSpec, onProgress, signal) {
      const dir = dirOf(spec.sessionId);
      requireHost();
      if (spec.network) requireSlirp();
      if (spec.seed?.git) {
        if (!spec.network) throw badRequest("workspace.git needs network access: create the session with `network: true`, or upload the files with workspace.files");
        if (!gitAvailable()) throw new AirlockError("unavailable", "workspace.git needs git on the Airlock host: `apt-get install git`");
      }
      if (existsSync(dir)) throw conflict(`a sandbox for ${spec.sessionId} already exists`);
      mkdirSync(root, { recursive: true, mode: 0o700 });
      sweepCgroups((id) => validId.test(id) && existsSync(join(root, id)));
      mkdirSync(dir, { mode: 0o700 });
      const s: Stored = { network: spec.network, limits: { ...defaults, ...definedOnly(spec.resources ?? {}) } };
      try {
        for (const sub of ["workspace", "home", "relay", "etc"]) mkdirSync(join(dir, sub));
        chmodSync(join(dir, "relay"), 0o700);
        for (const [name, content] of Object.entries(etcFiles(spec.network))) writeFileSync(join(dir, "etc", name), content);
        writeFileSync(join(dir, "labels.json"), JSON.stringify(spec.labels));
        writeFileSync(join(dir, "sandbox.json"), JSON.stringify(s));
        // The same words as the other providers: the UI shows them as the provisioning step.
        if (spec.seed?.files) {
          onProgress?.("writing workspace files");
          seedFiles(join(dir, "workspace"), spec.seed.files);
        }
        if (spec.seed?.git) {
          onProgress?.("cloning the repository");
          // git runs inside the sandbox, with its network: no host loopback, no host files through file://.
          const env = { PATH: "/usr/bin:/bin", HOME: sandboxHome, LANG: "C.UTF-8" };
          await cloneRepository(sandbox(spec.sessionId).wrapFor({}, {}, [], s), spec.seed.git, env, signal);
        }
        if (signal?.aborted) throw new AirlockError("unavailable", "sandbox creation was cancelled");
        if (gitAvailable()) {
          onProgress?.("recording the workspace baseline");
          await makeBaseline(join(dir, "baseline.git"), join(dir, "workspace"));
        }
        return handle(spec.sessionId);
      } catch (err) {
        await removeCgroups(spec.sessionId);
        removeTree(dir);
        throw err;
      }
    },

    async connect(ref: SandboxRef) {
      if (ref.provider !== "local" || !validId.test(ref.id)) return null;
      return existsSync(dirOf(ref.id)) ? handle(ref.id) : null;
    },

    async list(labels: Record<string, string>) {
      if (!existsSync(root)) return [];
      const refs: SandboxRef[] = [];
      for (const id of readdirSync(root)) {
        if (!validId.test(id)) continue;
        try {
          const own = JSON.parse(readFileSync(join(root, id, "labels.json"), "utf8")) as Record<string, string>;
          if (Object.entries(labels).every(([k, v]) => own[k] === v)) refs.push({ provider: "local", id, data: { dir: join(root, id) } });
        } catch {
          // not a sandbox folder (or one half made)
        }
      }
      return refs;
    },
  };
  return hidingHostPaths(provider, { dataDir, sandboxesDir: root });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Removes a sandbox folder, even one the agent made hard to remove: as a non-root server, a folder the agent
 * set to mode 000 cannot be entered until it is given its permissions back.
 */
function removeTree(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch {
    const open = (path: string) => {
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (!st?.isDirectory()) return;
      chmodSync(path, 0o700);
      for (const name of readdirSync(path)) open(join(path, name));
    };
    open(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  }
}
