/**
 * net-wrap — gives one bubblewrap sandbox outbound network through slirp4netns, without the host's loopback
 * (so neither Airlock's API nor any other service on the host's 127.0.0.1 is reachable from inside).
 *
 *   node net-wrap.mjs SLIRP4NETNS BWRAP [bwrap options... --info-fd 3 --block-fd 4] -- COMMAND...
 *
 * bwrap writes its child's pid to fd 3 and holds the command back until a byte arrives on fd 4: in between,
 * slirp4netns puts a tap device into the child's network namespace. slirp4netns ends when this process's end
 * of its exit pipe closes, so it never outlives the sandbox. Plain JavaScript: it runs on the host, outside
 * the sandbox, and is started by the provider's wrap prefix (never with the agent's NODE_* variables).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const [slirp, ...argv] = process.argv.slice(2);
if (!slirp || argv.length === 0) {
  process.stderr.write("usage: net-wrap.mjs SLIRP4NETNS BWRAP ARGS...\n");
  process.exit(2);
}

const sandbox = spawn(argv[0], argv.slice(1), { stdio: ["inherit", "inherit", "inherit", "pipe", "pipe"] });
let slirpProc = null;
let childPid = 0;
let info = "";
sandbox.stdio[3].setEncoding("utf8");
sandbox.stdio[3].on("data", (chunk) => {
  info += chunk;
  const m = /"child-pid"\s*:\s*(\d+)/.exec(info);
  if (m && !childPid) {
    childPid = Number(m[1]);
    whenLoopbackAddressed(childPid, () => startSlirp(childPid));
  }
});
sandbox.stdio[3].on("error", () => {});
sandbox.stdio[4].on("error", () => {});

/**
 * `slirp4netns --configure` also brings the namespace's loopback up, and the kernel then gives it 127.0.0.1 at
 * once; a bwrap child that had not added that address yet fails ("loopback: Failed RTM_NEWADDR"), which now and
 * then happened on a loaded machine. So slirp4netns starts once bwrap's address shows in the namespace's routing
 * table (root may read it; network is offered only to a root server).
 */
function whenLoopbackAddressed(pid, then) {
  const until = Date.now() + 5000;
  const check = () => {
    let addressed = false;
    try {
      addressed = readFileSync(`/proc/${pid}/net/fib_trie`, "utf8").includes("127.0.0.1");
    } catch {}
    if (sandbox.exitCode !== null || sandbox.signalCode !== null) return;
    if (addressed || Date.now() > until) then();
    else setTimeout(check, 1);
  };
  check();
}

function startSlirp(pid) {
  // The network namespace is joined by path, as root: bwrap's child already sits in a nested user namespace
  // that does not own it, so slirp4netns's default (join the pid's user namespace first) is refused. The
  // provider offers network only when the server runs as root.
  const target = ["--netns-type=path", `/proc/${pid}/ns/net`];
  const args = ["--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox", "--enable-seccomp", "--ready-fd=3", "--exit-fd=4", ...target, "tap0"];
  slirpProc = spawn(slirp, args, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
  let errors = "";
  slirpProc.stdio[2].setEncoding("utf8");
  slirpProc.stdio[2].on("data", (chunk) => (errors = (errors + chunk).slice(-2000)));
  slirpProc.stdio[3].once("data", () => sandbox.stdio[4].end("1"));
  slirpProc.stdio[4].on("error", () => {});
  slirpProc.on("error", (err) => fail(`could not start slirp4netns: ${err.message}`));
  slirpProc.on("exit", (code, signal) => {
    if (sandbox.exitCode === null && sandbox.signalCode === null) fail(`slirp4netns exited (${signal ?? code}): ${errors.trim()}`);
  });
}

function fail(message) {
  process.stderr.write(`airlock: no network for this sandbox: ${message}\n`);
  sandbox.kill("SIGKILL");
}

sandbox.on("error", (err) => {
  process.stderr.write(`airlock: could not start bwrap: ${err.message}\n`);
  process.exit(127);
});
sandbox.on("exit", (code, signal) => {
  slirpProc?.kill("SIGKILL");
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => sandbox.kill(signal));
