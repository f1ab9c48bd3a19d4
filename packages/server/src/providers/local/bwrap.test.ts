import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BwrapSpec, type HostLayout, bwrapArgs, etcFiles, exposes, splitEnv } from "./bwrap.ts";
import { hostLayout, runtimeDirs } from "./host.ts";

const host: HostLayout = {
  bwrap: "/usr/bin/bwrap",
  usr: [
    { path: "/bin", link: "usr/bin" },
    { path: "/lib64", link: null },
  ],
  runtime: [],
  disableUserns: true,
};
const spec: BwrapSpec = { workspace: "/data/sandboxes/s1/workspace", home: "/data/sandboxes/s1/home", etcDir: "/data/sandboxes/s1/etc", readOnlyPaths: [], forbidden: ["/data", "/root"] };

/** The [source, destination] pairs given to a flag. */
const pairs = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [[args[i + 1], args[i + 2]]] : []));
const has = (args: string[], ...seq: string[]) => args.some((_, i) => seq.every((s, j) => args[i + j] === s));

describe("bwrapArgs (pure)", () => {
  it("unshares every namespace, drops capabilities, runs as uid 1000 in a new session, ends in --", () => {
    const args = bwrapArgs(spec, host);
    expect(args[0]).toBe("/usr/bin/bwrap");
    for (const seq of [["--unshare-all"], ["--unshare-user"], ["--uid", "1000"], ["--gid", "1000"], ["--disable-userns"], ["--die-with-parent"], ["--new-session"], ["--cap-drop", "ALL"], ["--hostname", "airlock"]]) {
      expect(has(args, ...seq), seq.join(" ")).toBe(true);
    }
    expect(args).not.toContain("--share-net");
    expect(args.at(-1)).toBe("--");
    expect(has(args, "--remount-ro", "/", "--chdir", "/workspace", "--")).toBe(true);
    expect(bwrapArgs(spec, { ...host, disableUserns: false })).not.toContain("--disable-userns");
  });

  it("mounts /usr read-only, merged-usr links as symlinks and real folders read-only, never / wholesale", () => {
    const args = bwrapArgs(spec, host);
    expect(pairs(args, "--ro-bind")).toContainEqual(["/usr", "/usr"]);
    expect(pairs(args, "--symlink")).toContainEqual(["usr/bin", "/bin"]);
    expect(pairs(args, "--ro-bind")).toContainEqual(["/lib64", "/lib64"]);
    const sources = ["--bind", "--ro-bind", "--ro-bind-try", "--dev-bind"].flatMap((f) => pairs(args, f).map(([src]) => src));
    expect(sources).not.toContain("/");
    expect(sources.filter((s) => s === "/root" || s.startsWith("/root/") || s === "/data")).toEqual([]);
  });

  it("binds the workspace and the private home read-write, the generated /etc files read-only", () => {
    const args = bwrapArgs(spec, host);
    expect(pairs(args, "--bind")).toEqual([
      [spec.workspace, "/workspace"],
      [spec.home, "/home/agent"],
    ]);
    expect(pairs(args, "--ro-bind")).toContainEqual(["/data/sandboxes/s1/etc/passwd", "/etc/passwd"]);
    expect(pairs(args, "--ro-bind")).toContainEqual(["/data/sandboxes/s1/etc/hosts", "/etc/hosts"]);
    expect(pairs(args, "--ro-bind-try")).toContainEqual(["/etc/ssl", "/etc/ssl"]);
    // No DNS without network: resolv.conf only comes with it.
    expect(pairs(args, "--ro-bind").map(([, to]) => to)).not.toContain("/etc/resolv.conf");
  });

  it("mounts read-only paths at the same place, after the private /tmp so those under /tmp stay visible", () => {
    const args = bwrapArgs({ ...spec, readOnlyPaths: ["/opt/agent", "/tmp/tool/"] }, { ...host, runtime: ["/opt/node"] });
    const ro = pairs(args, "--ro-bind-try");
    expect(ro).toContainEqual(["/opt/node", "/opt/node"]);
    expect(ro).toContainEqual(["/opt/agent", "/opt/agent"]);
    expect(ro).toContainEqual(["/tmp/tool", "/tmp/tool"]);
    expect(args.indexOf("/tmp/tool")).toBeGreaterThan(args.indexOf("--tmpfs"));
  });

  it("refuses read-only paths that would expose /, $HOME or the data folder", () => {
    for (const bad of ["/", "/data", "/data/", "relative/path"]) expect(() => bwrapArgs({ ...spec, readOnlyPaths: [bad] }, host), bad).toThrow(/expose/);
    expect(() => bwrapArgs({ ...spec, readOnlyPaths: ["/root"] }, host)).toThrow(/expose \/root/);
    // A folder inside them is fine (an agent package under the data folder, Node under ~/.nvm).
    expect(() => bwrapArgs({ ...spec, readOnlyPaths: ["/data/agents/x", "/root/.nvm/versions/node/v20"] }, host)).not.toThrow();
    expect(exposes("/", [])).toMatch(/whole/);
    expect(exposes("/a", ["/a/b/c"])).toBe("/a/b/c");
    expect(exposes("/a/bc", ["/a/b"])).toBeNull();
  });

  it("binds Node's prefix, or only its bin folder when the prefix is $HOME, and refuses when both are", () => {
    expect(runtimeDirs("/usr/local/bin/node")).toEqual([]);
    expect(runtimeDirs("/opt/node-20/bin/node")).toEqual(["/opt/node-20", "/opt/node-20/bin"]);
    expect(runtimeDirs("/root/bin/node")).toEqual(["/root", "/root/bin"]);
    const args = bwrapArgs(spec, { ...host, runtime: runtimeDirs("/root/bin/node") });
    expect(pairs(args, "--ro-bind-try")).toContainEqual(["/root/bin", "/root/bin"]);
    expect(pairs(args, "--ro-bind-try").map(([src]) => src)).not.toContain("/root");
    expect(() => bwrapArgs(spec, { ...host, runtime: ["/root"] })).toThrow(/Node runtime/);
  });

  it("with network: bwrap reports its child on fd 3, waits on fd 4, and /etc/resolv.conf points at slirp's DNS", () => {
    const args = bwrapArgs({ ...spec, network: true }, host);
    expect(has(args, "--info-fd", "3", "--block-fd", "4")).toBe(true);
    expect(args).not.toContain("--share-net");
    expect(pairs(args, "--ro-bind")).toContainEqual(["/data/sandboxes/s1/etc/resolv.conf", "/etc/resolv.conf"]);
    expect(etcFiles(true)["resolv.conf"]).toBe("nameserver 10.0.2.3\n");
  });

  it("sets host-sensitive variables inside only; extra binds follow the workspace", () => {
    const { host: outside, inside } = splitEnv({ PATH: "/usr/bin", LD_PRELOAD: "/workspace/x.so", NODE_OPTIONS: "--require /workspace/x.js", GCONV_PATH: "/w", API_KEY: "k" });
    expect(outside).toEqual({ PATH: "/usr/bin", API_KEY: "k" });
    expect(Object.keys(inside).sort()).toEqual(["GCONV_PATH", "LD_PRELOAD", "NODE_OPTIONS"]);
    const args = bwrapArgs({ ...spec, setenv: inside, binds: [{ host: "/run/gw/s1", sandbox: "/run/airlock" }] }, host);
    expect(has(args, "--setenv", "LD_PRELOAD", "/workspace/x.so")).toBe(true);
    // The environment starts from nothing: nothing bwrap inherited reaches the sandbox.
    expect(args.indexOf("--clearenv")).toBeGreaterThan(0);
    expect(args.indexOf("--clearenv")).toBeLessThan(args.indexOf("--setenv"));
    expect(pairs(args, "--bind").at(-1)).toEqual(["/run/gw/s1", "/run/airlock"]);
  });

  it("names uid 1000 agent with home /home/agent", () => {
    expect(etcFiles(false).passwd).toContain("agent:x:1000:1000:agent:/home/agent:");
    expect(etcFiles(false).group).toContain("agent:x:1000:");
  });
});

// The same argv with the real bubblewrap of this host.
const dir = mkdtempSync(join(tmpdir(), "airlock-bwrap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sandbox(readOnlyPaths: string[] = []) {
  for (const sub of ["ws", "home", "etc"]) mkdirSync(join(dir, sub), { recursive: true });
  for (const [name, content] of Object.entries(etcFiles(false))) writeFileSync(join(dir, "etc", name), content);
  return bwrapArgs({ workspace: join(dir, "ws"), home: join(dir, "home"), etcDir: join(dir, "etc"), readOnlyPaths }, hostLayout());
}

const run = (args: string[], script: string) => spawnSync(args[0], [...args.slice(1), "node", "-e", script], { encoding: "utf8", env: { PATH: "/usr/local/bin:/usr/bin:/bin" } });

describe("bwrapArgs with the real bubblewrap", () => {
  it("keeps read-only paths under /tmp visible (the private /tmp is mounted first) and read-only", () => {
    const program = join(dir, "tool");
    mkdirSync(program, { recursive: true });
    writeFileSync(join(program, "hello.js"), "console.log('hello from ' + process.cwd())");
    const args = sandbox([program]);
    const ok = spawnSync(args[0], [...args.slice(1), "node", join(program, "hello.js")], { encoding: "utf8" });
    expect(ok.stdout.trim()).toBe("hello from /workspace");
    const write = run(args, `try { require('fs').writeFileSync(${JSON.stringify(join(program, "x"))}, 'x'); console.log('WROTE') } catch (e) { console.log(e.code) }`);
    expect(write.stdout.trim()).toBe("EROFS");
  });

  it("gives the agent uid 1000 named agent, a private /tmp, its own writable home and the hostname airlock", () => {
    const args = sandbox();
    const r = run(args, "const fs=require('fs'); fs.writeFileSync('/home/agent/x','1'); fs.writeFileSync('/tmp/y','1'); fs.writeFileSync('/workspace/z','1'); console.log(process.getuid(), require('os').userInfo().username, fs.readdirSync('/tmp').join(','), require('os').hostname())");
    expect(r.stdout.trim()).toBe("1000 agent y airlock");
  });

  it("keeps the agent from making user namespaces of its own", () => {
    const r = spawnSync(sandbox()[0], [...sandbox().slice(1), "unshare", "--user", "true"], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
  });
});
