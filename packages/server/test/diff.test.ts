/**
 * `GET /v1/sessions/:id/diff` whatever the agent left in its workspace: a nested repository without commits
 * (`git init sub`), a hand-made `sub/.git`, binary and large files, a diff over its size bound. Each answers
 * 200 with the changes and says plainly when something was summarized or left out (`truncated`, `notes`).
 * A real local sandbox; the agent is a program of the user's that runs the shell command it is prompted with.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseReader, type TestServer, hasStatus, removeDir, startServer, turnEnded } from "./harness.ts";

const shellAgent = `
const { spawnSync } = require("child_process");
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\\n");
require("readline").createInterface({ input: process.stdin }).on("line", (line) => {
  const m = JSON.parse(line);
  if (m.method === "initialize") send({ id: m.id, result: { protocolVersion: 1, agentCapabilities: {} } });
  else if (m.method === "session/new") send({ id: m.id, result: { sessionId: "sh" } });
  else if (m.method === "session/prompt") {
    const r = spawnSync("/bin/sh", ["-c", m.params.prompt[0].text], { encoding: "utf8", timeout: 60000 });
    const text = "exit " + r.status + "\\n" + (r.stdout + r.stderr).slice(0, 4000);
    send({ method: "session/update", params: { sessionId: "sh", update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text } } } });
    send({ id: m.id, result: { stopReason: "end_turn" } });
  }
});`;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ AIRLOCK_ALLOW_CUSTOM_AGENT: "1" });
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

/** A ready session of the shell agent, seeded with `files`. */
async function shellSession(files: Record<string, string> = {}) {
  const created = await server.api("POST", "/v1/sessions", { agent: "custom", command: ["node", "sh-agent.cjs"], workspace: { files: { ...files, "sh-agent.cjs": shellAgent } } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id: string = created.body.id;
  const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
  await sse.waitFor(hasStatus("ready"), 30_000, "ready");
  /** Runs `cmd` in the sandbox as the agent; resolves with what it printed (its exit status first). */
  const run = async (cmd: string) => {
    const turn = await server.api("POST", `/v1/sessions/${id}/prompt`, { text: cmd });
    expect(turn.status, JSON.stringify(turn.body)).toBe(202);
    const events = await sse.waitFor(turnEnded(turn.body.turnId), 90_000, cmd);
    return events.filter((e) => e.type === "update" && e.turnId === turn.body.turnId).map((e) => (e.data as any).content?.text ?? "").join("");
  };
  return { id, run, close: () => sse.close() };
}

describe("GET /diff with what an agent may leave in its workspace", () => {
  it("diffs a nested repository without commits (git init sub) as a plain folder", async () => {
    const s = await shellSession({ "a.txt": "one\n" });
    expect(await s.run("git init -q /workspace/sub && echo inner > /workspace/sub/inner.txt && echo two >> /workspace/a.txt")).toMatch(/^exit 0/);
    const diff = await server.api("GET", `/v1/sessions/${s.id}/diff`);
    expect(diff.status, JSON.stringify(diff.body)).toBe(200);
    expect(diff.body.diff).toContain("+++ b/sub/inner.txt");
    expect(diff.body.diff).toContain("+two");
    expect(diff.body.diff).not.toContain("sub/.git");
    expect(diff.body.truncated).toBe(false);
    expect(diff.body.notes).toContain("sub/ is a git repository of its own: diffed as a plain folder, its .git left out");
    s.close();
  }, 120_000);

  it("diffs folders with a hand-made .git (a folder that looks like a repository, a gitdir file)", async () => {
    const s = await shellSession();
    expect(await s.run("cd /workspace && mkdir -p fake/.git/objects fake/.git/refs other && echo 'ref: refs/heads/main' > fake/.git/HEAD && echo x > fake/kept.txt && echo 'gitdir: /nowhere' > other/.git && echo y > other/kept.txt")).toMatch(/^exit 0/);
    const diff = await server.api("GET", `/v1/sessions/${s.id}/diff`);
    expect(diff.status, JSON.stringify(diff.body)).toBe(200);
    expect(diff.body.diff).toContain("+++ b/fake/kept.txt");
    expect(diff.body.diff).toContain("+++ b/other/kept.txt");
    expect(diff.body.diff).not.toMatch(/\.git\/HEAD|b\/other\/\.git/);
    s.close();
  }, 120_000);

  it("summarizes a binary file and a large one (size and time, never read) and says so", async () => {
    const s = await shellSession();
    expect(await s.run("cd /workspace && head -c 4096 /dev/urandom > blob.bin && head -c 20000000 /dev/zero > huge.dat")).toMatch(/^exit 0/);
    const started = Date.now();
    const diff = await server.api("GET", `/v1/sessions/${s.id}/diff`);
    expect(diff.status, JSON.stringify(diff.body)).toBe(200);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(diff.body.diff).toMatch(/Binary files \/dev\/null and b\/blob\.bin differ/);
    expect(diff.body.diff).toMatch(/\+\+\+ b\/huge\.dat\n@@ -0,0 \+1 @@\n\+\[Airlock: a file of 20000000 bytes, modified [^\]]+; too large to diff\]/);
    expect(diff.body.notes.some((n: string) => n.startsWith("huge.dat: 20000000 bytes"))).toBe(true);
    // A later change of the large file shows; one left alone does not.
    expect(await s.run("echo more >> /workspace/huge.dat")).toMatch(/^exit 0/);
    const again = await server.api("GET", `/v1/sessions/${s.id}/diff`);
    expect(again.body.diff).toContain("+[Airlock: a file of 20000005 bytes");
    s.close();
  }, 120_000);

  it("cuts a diff over its size bound and says truncated", async () => {
    const s = await shellSession();
    // 6 MB of text: under the per-file bound (read and diffed), over the 4 MiB bound of the answer.
    expect(await s.run("seq 1 800000 > /workspace/numbers.txt")).toMatch(/^exit 0/);
    const diff = await server.api("GET", `/v1/sessions/${s.id}/diff`);
    expect(diff.status, JSON.stringify(diff.body).slice(0, 500)).toBe(200);
    expect(diff.body.truncated).toBe(true);
    expect(diff.body.diff.length).toBeLessThanOrEqual(4 << 20);
    expect(diff.body.notes).toContain(`incomplete: the diff was cut at ${4 << 20} bytes`);
    s.close();
  }, 120_000);
});
