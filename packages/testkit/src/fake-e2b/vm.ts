/**
 * @module vm — what stands in for one sandbox's microVM: its own root filesystem in a host folder and its own
 * pid namespace, made with bubblewrap; commands enter it with `nsenter`, as envd would start them in the VM.
 *
 * Root filesystem: the folder itself is `/` (writable: /home, /root, /tmp, /opt, /var, /workspace, ...), with
 * a private copy of the host's /etc (users `root` and `user`, uid 1000, like E2B's base image), the host's
 * /usr, /bin, /lib* read-only (so programs such as node, git, bash come from the host), a writable
 * /usr/local, fresh /proc and /dev, and the template's folders bound read-only where the template puts them.
 * What it is not: a security boundary. The network, the kernel and (as root) every capability are the host's.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Writable } from "node:stream";

export interface Bind {
  host: string;
  sandbox: string;
}

export interface VmUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface ExecConfig {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd?: string;
  user: VmUser;
  stdin: boolean;
  tag?: string;
  /** Kills the process after this long (envd's `Connect-Timeout-Ms`); 0 = never. */
  timeoutMs: number;
}

export interface ProcessEnd {
  exitCode: number;
  exited: boolean;
  status: string;
  error?: string;
}

export const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const systemLinks = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/** A process started in the VM: `data` ({stdout} | {stderr}) and `end` events. */
export class VmProcess extends EventEmitter {
  /** The pid inside the sandbox (its own pid namespace), as envd reports it. */
  pid = 0;
  hostPid = 0;
  end: ProcessEnd | null = null;
  stdin: Writable | null;
  readonly started: Promise<void>;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly config: ExecConfig,
    private readonly child: ChildProcess,
  ) {
    super();
    this.stdin = config.stdin ? child.stdin : null;
    if (!config.stdin) child.stdin?.end();
    child.stdout!.on("data", (data: Buffer) => this.emit("data", { stdout: data }));
    child.stderr!.on("data", (data: Buffer) => this.emit("data", { stderr: data }));
    child.once("close", (code, signal) => {
      if (this.timer) clearTimeout(this.timer);
      this.end = signal
        ? { exitCode: -1, exited: false, status: `signal: ${signalWord(signal)}`, error: `signal: ${signalWord(signal)}` }
        : { exitCode: code ?? -1, exited: true, status: `exit status ${code}`, ...(code ? { error: `exit status ${code}` } : {}) };
      this.emit("end", this.end);
    });
    this.started = this.findPid();
    if (config.timeoutMs > 0) this.timer = setTimeout(() => this.signal("SIGKILL"), config.timeoutMs);
  }

  /** The process nsenter forked into the sandbox's namespaces: its host pid and its pid in the sandbox. */
  private async findPid(): Promise<void> {
    const nsenter = this.child.pid!;
    const until = Date.now() + 5000;
    while (Date.now() < until && this.end === null) {
      const host = Number(read(`/proc/${nsenter}/task/${nsenter}/children`).trim().split(/\s+/)[0]);
      if (host) {
        const nspid = read(`/proc/${host}/status`).match(/^NSpid:\s+(.*)$/m)?.[1].trim().split(/\s+/).at(-1);
        if (nspid) {
          this.hostPid = host;
          this.pid = Number(nspid);
          return;
        }
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    // It ended before we saw it: keep a unique number so the SDK still gets its start event.
    this.pid = 1_000_000 + nsenter;
  }

  signal(signal: NodeJS.Signals): boolean {
    if (this.end) return false;
    try {
      process.kill(this.hostPid || this.child.pid!, signal);
      return true;
    } catch {
      return false;
    }
  }
}

export class Vm {
  private outer: ChildProcess | null = null;
  private initPid = 0;
  private pidNamespace = "";
  readonly processes = new Map<number, VmProcess>();
  /** Ended processes, kept a while so a late Connect still gets the exit (envd retains them too). */
  readonly ended = new Map<number, VmProcess>();
  paused = false;

  private constructor(
    readonly root: string,
    private readonly binds: Bind[],
  ) {}

  /** Makes the root filesystem and starts the namespace's init. */
  static async boot(root: string, template: { binds?: Bind[]; files?: Record<string, string> }): Promise<Vm> {
    makeRootfs(root);
    for (const [path, content] of Object.entries(template.files ?? {})) {
      const target = join(root, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    const vm = new Vm(root, template.binds ?? []);
    await vm.start();
    return vm;
  }

  private async start(): Promise<void> {
    const args = ["--bind", this.root, "/", "--ro-bind", "/usr", "/usr", "--bind", join(this.root, "usr/local"), "/usr/local"];
    for (const name of systemLinks) {
      const st = lstatSync(`/${name}`, { throwIfNoEntry: false });
      if (st?.isSymbolicLink()) args.push("--symlink", readlinkSync(`/${name}`), `/${name}`);
      else if (st?.isDirectory()) args.push("--ro-bind", `/${name}`, `/${name}`);
    }
    args.push("--proc", "/proc", "--dev", "/dev", "--ro-bind", "/sys", "/sys");
    for (const b of this.binds) args.push("--ro-bind", b.host, b.sandbox);
    args.push("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "e2b.local", "--die-with-parent", "--info-fd", "3", "--", "sleep", "infinity");
    const outer = spawn("bwrap", args, { stdio: ["ignore", "ignore", "pipe", "pipe"] });
    this.outer = outer;
    let info = "";
    let stderr = "";
    outer.stderr!.on("data", (d: Buffer) => (stderr += d));
    outer.stdio[3]!.on("data", (d: Buffer) => (info += d));
    await new Promise<void>((resolveStart, reject) => {
      outer.once("error", reject);
      outer.stdio[3]!.once("end", () => (info ? resolveStart() : reject(new Error(`bwrap did not start the sandbox: ${stderr.trim()}`))));
    });
    this.initPid = JSON.parse(info)["child-pid"];
    this.pidNamespace = readlinkSync(`/proc/${this.initPid}/ns/pid`);
    // bwrap reports the child's pid before the child has mounted the new root: entering the namespace that
    // early finds no /bin/sh. The root is ready once `sleep infinity` runs in it.
    const until = Date.now() + 10_000;
    while (!this.sleeping() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  }

  get running(): boolean {
    return this.outer !== null && this.outer.exitCode === null && this.outer.signalCode === null;
  }

  /** Users from the sandbox's own /etc/passwd. */
  user(name: string): VmUser | undefined {
    for (const line of read(join(this.root, "etc/passwd")).split("\n")) {
      const [user, , uid, gid, , home] = line.split(":");
      if (user === name) return { name, uid: Number(uid), gid: Number(gid), home };
    }
    return undefined;
  }

  /**
   * Where a path of the sandbox lives on the host, and whether it can be written (template binds and the
   * host's /usr are read-only).
   */
  hostPath(sandboxPath: string): { path: string; writable: boolean } {
    const p = resolve("/", sandboxPath);
    for (const b of this.binds) {
      if (p === b.sandbox || p.startsWith(b.sandbox + "/")) return { path: b.host + p.slice(b.sandbox.length), writable: false };
    }
    if (p === "/usr/local" || p.startsWith("/usr/local/")) return { path: join(this.root, p), writable: true };
    const top = p.split("/")[1];
    if (top === "usr" || systemLinks.includes(top)) return { path: p, writable: false };
    return { path: join(this.root, p), writable: true };
  }

  exists(sandboxPath: string): boolean {
    return existsSync(this.hostPath(sandboxPath).path);
  }

  exec(config: ExecConfig): VmProcess {
    const wrapper = 'cd "$1" || exit 1; shift; exec "$@"';
    const switchUser = config.user.uid === 0 ? [] : ["setpriv", `--reuid=${config.user.uid}`, `--regid=${config.user.gid}`, "--init-groups", "--"];
    const argv = ["-t", String(this.initPid), "-m", "-p", "-r", "-w", "--", ...switchUser, "/bin/sh", "-c", wrapper, "sh", config.cwd ?? config.user.home, config.cmd, ...config.args];
    const env = { PATH: defaultPath, HOME: config.user.home, USER: config.user.name, LOGNAME: config.user.name, ...config.envs };
    const child = spawn("nsenter", argv, { env, stdio: ["pipe", "pipe", "pipe"] });
    child.stdin!.on("error", () => {});
    const proc = new VmProcess(config, child);
    void proc.started.then(() => {
      if (proc.end) return;
      this.processes.set(proc.pid, proc);
      proc.once("end", () => {
        this.processes.delete(proc.pid);
        this.ended.set(proc.pid, proc);
        if (this.ended.size > 256) this.ended.delete(this.ended.keys().next().value!);
      });
    });
    return proc;
  }

  /** Host pids of every process in the sandbox's pid namespace (what a VM snapshot would freeze). */
  private members(): number[] {
    if (!this.pidNamespace) return [];
    const out: number[] = [];
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (readlinkSync(`/proc/${name}/ns/pid`) === this.pidNamespace) out.push(Number(name));
      } catch {}
    }
    return out;
  }

  /** Freezes every process (pause with memory: they continue where they were on resume). */
  pause(): void {
    this.paused = true;
    for (const pid of this.members()) signal(pid, "SIGSTOP");
  }

  resume(): void {
    this.paused = false;
    for (const pid of this.members()) signal(pid, "SIGCONT");
  }

  /** Kills everything in the sandbox and removes its filesystem. */
  async destroy(): Promise<void> {
    for (const pid of this.members()) signal(pid, "SIGKILL");
    if (this.outer && this.running) {
      const exited = new Promise((r) => this.outer!.once("exit", r));
      this.outer.kill("SIGKILL");
      await exited;
    }
    const until = Date.now() + 3000;
    while (this.members().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    rmSync(this.root, { recursive: true, force: true });
  }

  private sleeping(): boolean {
    const pids = [this.initPid, ...read(`/proc/${this.initPid}/task/${this.initPid}/children`).trim().split(/\s+/).filter(Boolean).map(Number)];
    return pids.some((pid) => read(`/proc/${pid}/comm`).trim() === "sleep");
  }

  /** How many processes still run in the sandbox (0 once destroyed). */
  liveProcessCount(): number {
    return this.members().length;
  }
}

/** Users of the fake's base image: the host's system accounts, plus `user` (uid 1000) as on E2B. */
function makeRootfs(root: string): void {
  for (const dir of ["home/user", "root", "tmp", "opt", "var/tmp", "var/lib", "run", "usr/local/bin", "usr/local/lib", "srv", "mnt"]) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  cpSync("/etc", join(root, "etc"), { recursive: true, verbatimSymlinks: true, force: true, filter: (src) => readable(src) });
  const system = (file: string, max: number) =>
    read(`/etc/${file}`)
      .split("\n")
      .filter((l) => l && Number(l.split(":")[2]) < max);
  const passwd = read("/etc/passwd")
    .split("\n")
    .filter((l) => l && (Number(l.split(":")[2]) < 1000 || l.startsWith("nobody:")));
  writeFileSync(join(root, "etc/passwd"), [...passwd, "user:x:1000:1000::/home/user:/bin/bash", ""].join("\n"));
  writeFileSync(join(root, "etc/group"), [...system("group", 1000), "user:x:1000:", ""].join("\n"));
  const names = new Set(passwd.map((l) => l.split(":")[0]));
  const shadow = read("/etc/shadow")
    .split("\n")
    .filter((l) => l && names.has(l.split(":")[0]));
  writeFileSync(join(root, "etc/shadow"), [...shadow, "user:*:19000:0:99999:7:::", ""].join("\n"), { mode: 0o640 });
  chmodSync(join(root, "tmp"), 0o1777);
  chmodSync(join(root, "var/tmp"), 0o1777);
  chmodSync(join(root, "root"), 0o700);
  chownSync(join(root, "home/user"), 1000, 1000);
}

function readable(path: string): boolean {
  try {
    const st = lstatSync(path);
    return st.isDirectory() || st.isFile() || st.isSymbolicLink();
  } catch {
    return false;
  }
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {}
}

function signalWord(signal: NodeJS.Signals): string {
  return ({ SIGKILL: "killed", SIGTERM: "terminated", SIGINT: "interrupt", SIGHUP: "hangup", SIGSEGV: "segmentation fault" } as Record<string, string>)[signal] ?? signal.toLowerCase();
}
