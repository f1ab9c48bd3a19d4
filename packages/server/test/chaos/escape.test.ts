/**
 * Escape probes from inside an agent: a custom ACP agent (a program of the user's, run in the sandbox) runs
 * shell commands that try to reach what a sandbox must not: Airlock's data folder, the host's $HOME, the
 * server's environment and its API on the host's loopback, other sandboxes' workspaces, host processes, files
 * outside the workspace, the network. Each must fail. These are today's guarantees; what other work adds
 * (an unprivileged host uid, a seccomp filter) brings probes of its own.
 */
import { rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseReader, hasStatus, turnEnded } from "../harness.ts";
import { report, serverForFile, timeoutMs } from "./chaos.ts";

const marker = `chaos-${process.pid}-${Date.now()}`;
// Named without the marker: a refusal that names the path must not look like the content leaked.
const planted = join(homedir(), `airlock-chaos-planted-${process.pid}.txt`);
beforeAll(() => writeFileSync(planted, `${marker}\n`));
afterAll(() => rmSync(planted, { force: true }));
// Secrets the server holds: none may be seen from inside.
const serverOf = serverForFile({ AIRLOCK_ALLOW_CUSTOM_AGENT: "1", ANTHROPIC_API_KEY: `sk-ant-${marker}`, AIRLOCK_CHAOS_SECRET: marker });

/** An ACP agent that runs the probes it is prompted with (JSON) and answers with what each printed. */
const prober = `
const { spawnSync } = require("child_process");
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\\n");
require("readline").createInterface({ input: process.stdin }).on("line", (line) => {
  const m = JSON.parse(line);
  if (m.method === "initialize") send({ id: m.id, result: { protocolVersion: 1, agentCapabilities: {} } });
  else if (m.method === "session/new") send({ id: m.id, result: { sessionId: "probe" } });
  else if (m.method === "session/prompt") {
    const probes = JSON.parse(m.params.prompt[0].text);
    const results = probes.map((p) => {
      const r = spawnSync("/bin/sh", ["-c", p.cmd], { encoding: "utf8", timeout: 20000 });
      return { name: p.name, status: r.status, out: (r.stdout + r.stderr).slice(0, 2000) };
    });
    send({ method: "session/update", params: { sessionId: "probe", update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: JSON.stringify(results) } } } });
    send({ id: m.id, result: { stopReason: "end_turn" } });
  }
});`;

interface Probe {
  name: string;
  cmd: string;
  /** What shows the probe was held: checked against what it printed, and its exit status. */
  held(result: { status: number | null; out: string }): boolean;
}

const failed = (r: { status: number | null }) => r.status !== 0;
const connect = (host: string, port: number) =>
  `node -e "require('net').connect(${port},'${host}').on('connect',()=>{console.log('CONNECTED');process.exit(0)}).on('error',e=>{console.log('REFUSED',e.code);process.exit(1)})"`;

describe("escape probes from inside an agent", () => {
  it("reach nothing outside the sandbox", async () => {
    const server = serverOf();
    const other = await server.api("POST", "/v1/sessions", { agent: "scripted", workspace: { files: { "other-secret.txt": marker } } });
    const created = await server.api("POST", "/v1/sessions", { agent: "custom", command: ["node", "prober.cjs"], workspace: { files: { "prober.cjs": prober } } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id: string = created.body.id;
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await sse.waitFor(hasStatus("ready"), 30_000, "ready");
    const data = server.dataDir;
    const port = Number(new URL(server.url).port);
    const probes: Probe[] = [
      { name: "list the data folder", cmd: `ls -a ${data}`, held: failed },
      { name: "read the database", cmd: `cat ${join(data, "airlock.db")} ${join(data, "installation-id")}`, held: failed },
      { name: "list other sandboxes", cmd: `ls ${join(data, "sandboxes")}`, held: failed },
      { name: "read another sandbox's workspace by its path", cmd: `cat ${join(data, "sandboxes", other.body.id, "workspace", "other-secret.txt")}`, held: failed },
      { name: "find another sandbox's file anywhere", cmd: "find / -xdev -name other-secret.txt 2>/dev/null; true", held: (r) => !r.out.includes("other-secret") },
      { name: "read a file in the host's $HOME", cmd: `cat ${planted}`, held: (r) => failed(r) && !r.out.includes(marker) },
      { name: "list the host's ~/.ssh", cmd: `ls ${join(homedir(), ".ssh")}`, held: failed },
      { name: "see the server's secrets in any environment", cmd: `cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c '${marker}'`, held: (r) => r.out.trim() === "0" },
      { name: "see the server's process", cmd: "cat /proc/*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -c '[p]ackages/server/src/main.ts'", held: (r) => r.out.trim() === "0" },
      { name: "pid 1 is the sandbox's own init", cmd: "cat /proc/1/comm", held: (r) => r.out.trim() === "bwrap" },
      { name: "hold a capability", cmd: "grep CapEff /proc/self/status", held: (r) => /CapEff:\s+0+\s*$/.test(r.out) },
      { name: "mount a file system", cmd: "mount -t tmpfs none /tmp", held: failed },
      { name: "call the API on the host's loopback", cmd: connect("127.0.0.1", port), held: (r) => r.out.includes("REFUSED") },
      { name: "call PostgreSQL on the host's loopback", cmd: connect("127.0.0.1", 5432), held: (r) => r.out.includes("REFUSED") },
      { name: "reach the network", cmd: connect("1.1.1.1", 80), held: (r) => r.out.includes("REFUSED") },
      { name: "write outside the workspace", cmd: "touch /usr/chaos /etc/chaos /chaos", held: failed },
      // The host's layout must not show through /proc: bwrap's init (pid 1) keeps the command line and the
      // environment bwrap was started with, and a host-side shell used to leave PWD=<data>/sandboxes/<id>/workspace.
      // With the sandbox user mapped to an unprivileged uid, pid 1 (bwrap's, root inside) cannot even be read.
      { name: "see the data folder in pid 1's environment", cmd: `tr '\\0' '\\n' </proc/1/environ | grep -c -F '${data}'`, held: (r) => r.out.trim() === "0" || r.out.includes("Permission denied") },
      { name: "see the data folder in the agent's environment", cmd: `tr '\\0' '\\n' </proc/$PPID/environ | grep -c -F '${data}'`, held: (r) => r.out.trim() === "0" },
      { name: "see the data folder in a process's own environment", cmd: `tr '\\0' '\\n' </proc/self/environ | grep -c -F '${data}'`, held: (r) => r.out.trim() === "0" },
      { name: "see the data folder in pid 1's command line", cmd: `tr '\\0' '\\n' </proc/1/cmdline | grep -c -F '${data}'`, held: (r) => r.out.trim() === "0" },
      { name: "the agent's PWD is the sandbox's workspace", cmd: `tr '\\0' '\\n' </proc/$PPID/environ | grep '^PWD='`, held: (r) => r.out.trim() === "PWD=/workspace" },
      { name: "inherit a variable of the server", cmd: `tr '\\0' '\\n' </proc/$PPID/environ | grep -c -E '^(AIRLOCK_(DATA_DIR|PORT|ALLOW_CUSTOM_AGENT|CHAOS_SECRET|LOG_LEVEL)|ANTHROPIC_API_KEY)='`, held: (r) => r.out.trim() === "0" },
      // Reported, not held: bind mounts name their source in mountinfo's root field (see README, "What a sandbox sees").
      { name: "mountinfo lines naming the data folder", cmd: `grep -c -F '${data}' /proc/self/mountinfo; grep -F '${data}' /proc/self/mountinfo | head -3`, held: () => true },
      // Content meant to break the server's diff of the workspace (a 500 once): it must still answer 200.
      { name: "leave a nested repository, a fake .git and a FIFO", cmd: "cd /workspace && git init -q nested && mkdir -p fake/.git/refs fake/.git/objects && echo 'ref: refs/heads/x' > fake/.git/HEAD && mkfifo pipe; true", held: () => true },
      { name: "write in the workspace (the control)", cmd: "echo fine > /workspace/inside.txt && cat /workspace/inside.txt", held: (r) => r.status === 0 && r.out.includes("fine") },
    ];
    const turn = await server.api("POST", `/v1/sessions/${id}/prompt`, { text: JSON.stringify(probes.map(({ name, cmd }) => ({ name, cmd }))) });
    const events = await sse.waitFor(turnEnded(turn.body.turnId), 120_000, "the probes");
    const said = events.filter((e) => e.type === "update" && e.turnId === turn.body.turnId).map((e) => (e.data as any).content?.text ?? "").join("");
    const results = JSON.parse(said) as Array<{ name: string; status: number | null; out: string }>;
    const escapes = probes.flatMap((p, i) => (p.held(results[i]) ? [] : [{ probe: p.name, result: results[i] }]));
    const mountinfo = results.find((r) => r.name === "mountinfo lines naming the data folder")!;
    console.log(`mountinfo inside a sandbox:\n${mountinfo.out}`);
    report("escape probes from inside an agent", { probes: probes.length, escapes: escapes.length, mountinfoLinesNamingDataDir: Number(mountinfo.out.split("\n")[0]) });
    expect(escapes).toEqual([]);
    const diff = await server.api("GET", `/v1/sessions/${id}/diff`);
    expect(diff.status, JSON.stringify(diff.body).slice(0, 500)).toBe(200);
    expect(JSON.stringify(diff.body)).not.toContain(data);
    sse.close();
  }, timeoutMs);
});
