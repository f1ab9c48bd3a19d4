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
 *     seccomp.bpf    the system-call filter bwrap loads (seccomp.ts)
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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
import { viaArgsFile } from "./args-file.ts";
import { withUserPrefix } from "../user-prefix.ts";
import { bwrapArgs, etcFiles, sandboxHome, sandboxWorkspace, splitEnv } from "./bwrap.ts";
import { diffWorkspace, gitAvailable, makeBaseline } from "./diff.ts";
import { hostLayout, which } from "./host.ts";
import { type Limits, createCgroups, defaultLimits, limitPrefix, removeCgroups, sweepCgroups } from "./limits.ts";
import { preflight } from "./preflight.ts";
import { HostRelay } from "./host-relay.ts";
import { ensureSharedNet, sharedNetSupport, stopSharedNet } from "./netns.ts";
import { hidingHostPaths } from "./host-paths.ts";
import { type SandboxOwner, chownTree, ownedBy, sandboxOwner, uidMapPrefix } from "./uid-map.ts";
import { seccompFd, seccompPrefix, seccompProgram } from "./seccomp.ts";
import { type Relay, findRelay, forgetEnv, runningRelay, startRelay, stopRelay } from "./sandboxd.ts";
import { diskUsage } from "@airlock/sandboxd";
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
  /** How long a relay keeps its agent with no server attached; default each session's idle timeout. */
  orphanGraceSec?: number | null;
  /** The host uid and gid of the sandbox user (see uid-map.ts); default from AIRLOCK_SANDBOX_UID when root, null: the server's own. */
  sandboxOwner?: SandboxOwner | null;
  /** How often the relay measures a sandbox's disk use against `resources.diskMb` (default 10 s). */
  diskCheckIntervalMs?: number;
}

/** What create() records for a later start of the agent in the same sandbox. */
interface Stored {
  network: boolean;
  limits: Limits;
  /** The session's idle timeout: the relay's orphan grace unless the server sets one. */
  idleTimeoutSec?: number;
}

export const netWrapPath = fileURLToPath(new URL("./net-wrap.mjs", import.meta.url));
/** The orphan grace of a sandbox made before sessions' idle timeouts were recorded with it. */
const defaultOrphanGraceSec = 3600;
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
  // Without the seccomp filter bwrap's --disable-userns must stay, and it cannot go with outside-written maps.
  const owner = seccompProgram() ? (options.sandboxOwner !== undefined ? options.sandboxOwner : sandboxOwner()) : null;
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
    const wrapFor = (launch: Pick<AgentLaunch, "readOnlyPaths" | "binds">, env: Record<string, string>, cgroupProcs: string[], s: Stored, argsName: string, sharedNet?: { nsenter: string; path: string }) => {
      // Written on every start: a sandbox made by an older version has none, and a newer filter applies at once.
      const filter = seccompProgram();
      if (filter) writeFileSync(join(dir, "seccomp.bpf"), filter);
      const bwrap = bwrapArgs(
        {
          workspace: paths.workspace,
          home: paths.home,
          etcDir: paths.etc,
          readOnlyPaths: launch.readOnlyPaths ?? [],
          binds: launch.binds,
          network: s.network,
          shareNet: !!sharedNet,
          // The whole environment, set from nothing: a host-side shell's PWD (the host workspace) must not show.
          setenv: { ...env, PWD: sandboxWorkspace },
          forbidden,
          seccompFd: filter ? seccompFd : undefined,
          mappedUser: owner !== null,
        },
        requireHost(),
      );
      const net = sharedNet ? [sharedNet.nsenter, `--net=${sharedNet.path}`, "--"] : s.network ? [process.execPath, netWrapPath, requireSlirp()] : [];
      const seccomp = filter ? seccompPrefix(join(dir, "seccomp.bpf")) : [];
      // The read-write binds (the gateway's socket folder) must be the sandbox user's to use.
      if (owner) for (const b of launch.binds ?? []) chownTree(b.host, owner);
      // bwrap's info goes on to net-wrap.mjs only when this wrap makes the network itself.
      const mapUser = owner ? uidMapPrefix(owner, s.network && !sharedNet) : [];
      return [...limitPrefix(cgroupProcs, s.limits, which("prlimit")), ...net, ...seccomp, ...viaArgsFile(bwrap, join(paths.relay, argsName), id, mapUser)];
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
        if (owner) giveToSandboxUser(paths, Object.keys(launch.homeFiles ?? {}), owner);
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
        const diskMb = s.limits.diskMb ?? defaults.diskMb;
        const diskPaths = [paths.workspace, paths.home];
        if (diskMb) await refuseOverDisk(diskPaths, diskMb);
        const cgroupProcs = createCgroups(id, s.limits);
        const socketPath = join(paths.relay, "sandboxd.sock");
        const config: SandboxdConfig = {
          token,
          listen: socketPath.length <= maxSocketPath ? { socketPath } : { host: "127.0.0.1", port: 0 },
          stateDir: paths.relay,
          workspace: { hostPath: paths.workspace, sandboxPath: sandboxWorkspace },
          agent: { argv: launch.argv, env: hostEnv },
          wrap: wrapFor(launch, { ...hostEnv, ...inside }, cgroupProcs, s, "bwrap.args", await sharedNet(s)),
          cgroupProcs,
          orphanGraceMs: (options.orphanGraceSec ?? s.idleTimeoutSec ?? defaultOrphanGraceSec) * 1000,
          ...(diskMb ? { diskLimit: { bytes: diskMb * 1024 * 1024, paths: diskPaths, intervalMs: options.diskCheckIntervalMs } } : {}),
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
      const s: Stored = { network: spec.network, limits: { ...defaults, ...definedOnly(spec.resources ?? {}) }, ...(spec.idleTimeoutSec ? { idleTimeoutSec: spec.idleTimeoutSec } : {}) };
      try {
        for (const sub of ["workspace", "home", "relay", "etc"]) mkdirSync(join(dir, sub));
        if (owner) for (const sub of ["workspace", "home"]) chownTree(join(dir, sub), owner);
        chmodSync(join(dir, "relay"), 0o700);
        for (const [name, content] of Object.entries(etcFiles(spec.network))) writeFileSync(join(dir, "etc", name), content);
        writeFileSync(join(dir, "labels.json"), JSON.stringify(spec.labels));
        writeFileSync(join(dir, "sandbox.json"), JSON.stringify(s));
        // The same words as the other providers: the UI shows them as the provisioning step.
        if (spec.seed?.files) {
          onProgress?.("writing workspace files");
          seedFiles(join(dir, "workspace"), spec.seed.files);
          if (owner) chownTree(join(dir, "workspace"), owner);
        }
        if (spec.seed?.git) {
          onProgress?.("cloning the repository");
          // git runs inside the sandbox, with its network: no host loopback, no host files through file://.
          const env = { PATH: "/usr/bin:/bin", HOME: sandboxHome, LANG: "C.UTF-8" };
          await cloneRepository(sandbox(spec.sessionId).wrapFor({}, { ...env, GIT_TERMINAL_PROMPT: "0" }, [], s, "bwrap-clone.args"), spec.seed.git, env, signal);
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

/**
 * The sandbox user's folders belong to its host uid: all of them for a sandbox made before (or with another
 * uid), else only the home files just written (the rest of home may be large: the agent's caches).
 */
function giveToSandboxUser(paths: { workspace: string; home: string }, homeFiles: string[], owner: SandboxOwner): void {
  if (!ownedBy(paths.workspace, owner)) chownTree(paths.workspace, owner);
  if (!ownedBy(paths.home, owner)) return chownTree(paths.home, owner);
  for (const file of homeFiles) {
    const parts = file.split("/").filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const path = join(paths.home, ...parts.slice(0, i));
      try {
        if (!lstatSync(path).isSymbolicLink()) chownSync(path, owner.uid, owner.gid);
      } catch {}
    }
  }
}

/** A sandbox over its disk limit does not start again: the agent would be stopped at the first measure. */
async function refuseOverDisk(paths: string[], diskMb: number): Promise<void> {
  const usage = await diskUsage(paths);
  const usedMb = Math.round(usage.bytes / (1024 * 1024));
  if (usage.bytes > diskMb * 1024 * 1024) {
    throw new AirlockError("conflict", `the sandbox uses ${usedMb} MiB of disk, over its limit of ${diskMb} MiB (disk_limit): the agent cannot start until space is freed in the workspace`);
  }
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
