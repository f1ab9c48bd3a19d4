// Throughput of the whole relay pipeline: the fixture agent writes N notifications, sandboxd journals them,
// a reader takes them from /journal/stream. Prints records/s and checks for gaps. Not a test.
//
//   node packages/sandboxd/test/throughput.mjs [N=200000] [textBytes=8]
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const n = Number(process.argv[2] ?? 200_000);
const size = Number(process.argv[3] ?? 8);
const here = fileURLToPath(new URL(".", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "sandboxd-throughput-"));
const stateDir = join(root, "state");
const workspace = join(root, "workspace");
mkdirSync(stateDir);
mkdirSync(workspace);

let sandboxdPid = 0;
try {
  const bundle = join(root, "sandboxd.js");
  execFileSync(process.execPath, [join(here, "..", "build.mjs"), "--outfile", bundle], { stdio: "inherit" });
  const token = "throughput";
  const socketPath = join(stateDir, "s.sock");
  const config = {
    token,
    listen: { socketPath },
    stateDir,
    workspace: { hostPath: workspace, sandboxPath: workspace },
    agent: { argv: [process.execPath, join(here, "fixtures", "echo-agent.mjs")], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
    wrap: [],
  };
  writeFileSync(join(stateDir, "config.json"), JSON.stringify(config));
  const child = spawn(process.execPath, [bundle, join(stateDir, "config.json")], { detached: true, stdio: "ignore" });
  child.unref();
  sandboxdPid = child.pid;
  const deadline = Date.now() + 10_000;
  while (!existsSync(join(stateDir, "sandboxd.json"))) {
    if (Date.now() > deadline) throw new Error("sandboxd did not start");
    await new Promise((r) => setTimeout(r, 20));
  }

  const call = (method, path, body) =>
    new Promise((resolve, reject) => {
      const req = http.request({ socketPath, method, path, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } }, (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve(JSON.parse(text)));
      });
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  // Read the stream as the control plane would: split into lines, parse each record, check the seq.
  let received = 0;
  let expected = 1;
  let gaps = 0;
  let startedAt = 0;
  const done = new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: "/journal/stream?after=0", headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.setEncoding("utf8");
      let carry = "";
      res.on("data", (chunk) => {
        const text = carry + chunk;
        const end = text.lastIndexOf("\n");
        carry = text.slice(end + 1);
        for (const line of text.slice(0, end).split("\n")) {
          if (!line) continue;
          const record = JSON.parse(line);
          if (record.seq !== expected) gaps++;
          expected = record.seq + 1;
          if (record.kind === "agent" && record.msg.method === "session/update") received++;
          if (record.kind === "agent" && record.msg.id === "burst") {
            resolve(Date.now());
            req.destroy();
          }
        }
      });
    });
    req.on("error", (err) => (err.code === "ECONNRESET" ? undefined : reject(err)));
    req.end();
  });

  await new Promise((r) => setTimeout(r, 200));
  startedAt = Date.now();
  await call("POST", "/send", { jsonrpc: "2.0", id: "burst", method: "burst", params: { n, size } });
  const endedAt = await done;
  const seconds = (endedAt - startedAt) / 1000;
  const journalBytes = statSync(join(stateDir, "journal.ndjson")).size;
  console.log(
    JSON.stringify({
      notifications: n,
      received,
      gaps,
      seconds: Number(seconds.toFixed(3)),
      recordsPerSecond: Math.round(received / seconds),
      journalMB: Number((journalBytes / 1024 / 1024).toFixed(1)),
    }),
  );
  await call("POST", "/shutdown", {});
  const health = await call("GET", "/health");
  await call("POST", "/ack", { seq: health.lastSeq });
  if (received !== n || gaps !== 0) process.exitCode = 1;
} finally {
  await new Promise((r) => setTimeout(r, 300));
  try {
    process.kill(sandboxdPid, "SIGKILL");
  } catch {}
  const log = join(stateDir, "sandboxd.log");
  if (process.exitCode && existsSync(log)) console.error(readFileSync(log, "utf8").slice(-2000));
  rmSync(root, { recursive: true, force: true });
}
