/**
 * What the agent can reach, checked from inside a real session: commands run by the agent (terminal/*)
 * and a custom agent program both live in the bubblewrap sandbox.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseReader, type TestServer, hasStatus, removeDir, startServer, turnEnded } from "./harness.ts";

let server: TestServer;
const planted = join(homedir(), `airlock-planted-${process.pid}.txt`);
beforeAll(async () => {
  writeFileSync(planted, "top secret\n");
  server = await startServer({ AIRLOCK_ALLOW_CUSTOM_AGENT: "1" });
});
afterAll(async () => {
  rmSync(planted, { force: true });
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

async function run(id: string, sse: SseReader, command: string): Promise<string> {
  const res = await server.api("POST", `/v1/sessions/${id}/prompt`, { text: `run ${command}` });
  await sse.waitFor(turnEnded(res.body.turnId), 20_000, `run ${command}`);
  return sse.events
    .filter((e) => e.turnId === res.body.turnId && e.type === "terminal.output")
    .map((e) => (e.data as any).data ?? `[exit ${(e.data as any).exitCode}]`)
    .join("");
}

describe("the local sandbox", () => {
  it("hides $HOME, the data folder and the host's loopback; confines writes to the workspace", async () => {
    const res = await server.api("POST", "/v1/sessions", { agent: "scripted" });
    const id = res.body.id;
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await sse.waitFor(hasStatus("ready"));

    expect(await run(id, sse, `cat ${planted} || echo NO-HOME-FILE`)).toContain("NO-HOME-FILE");
    expect(await run(id, sse, `ls ${homedir()}/.ssh 2>&1 || echo NO-SSH`)).toContain("NO-SSH");
    expect(await run(id, sse, `ls ${server.dataDir} 2>&1 || echo NO-DATA-DIR`)).toContain("NO-DATA-DIR");
    expect(await run(id, sse, "touch /usr/evil 2>&1 || echo NO-WRITE")).toContain("NO-WRITE");
    expect(await run(id, sse, "echo ok > /workspace/inside.txt && cat /workspace/inside.txt")).toContain("ok");
    const port = new URL(server.url).port;
    const connect = `node -e "require('net').connect(${port},'127.0.0.1').on('connect',()=>console.log('CONNECTED')).on('error',e=>console.log('REFUSED',e.code))"`;
    const out = await run(id, sse, connect);
    expect(out).toContain("REFUSED");
    expect(out).not.toContain("CONNECTED");
    expect(await run(id, sse, "id -u")).toContain("1000");
    // the workspace file is visible from the API, the rest of the host is not
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=inside.txt`)).body.content).toBe("ok\n");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=../../installation-id`)).status).toBe(400);
    sse.close();
    await server.api("DELETE", `/v1/sessions/${id}`);
  });

  it("runs a custom ACP agent command with node inside the sandbox, the workspace as cwd", async () => {
    // a minimal ACP agent, seeded into the workspace
    const agent = `
      const rl = require("readline").createInterface({ input: process.stdin });
      const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\\n");
      rl.on("line", (line) => {
        const m = JSON.parse(line);
        if (m.method === "initialize") send({ id: m.id, result: { protocolVersion: 1, agentCapabilities: {} } });
        else if (m.method === "session/new") send({ id: m.id, result: { sessionId: "s1" } });
        else if (m.method === "session/prompt") {
          send({ method: "session/update", params: { sessionId: "s1", update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: "cwd=" + process.cwd() + " uid=" + process.getuid() } } } });
          send({ id: m.id, result: { stopReason: "end_turn" } });
        }
      });`;
    const res = await server.api("POST", "/v1/sessions", {
      agent: "custom",
      command: ["node", "agent.cjs"],
      workspace: { files: { "agent.cjs": agent } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`);
    await sse.waitFor(hasStatus("ready"));
    const turn = await server.api("POST", `/v1/sessions/${res.body.id}/prompt`, { text: "hello" });
    const events = await sse.waitFor(turnEnded(turn.body.turnId));
    const text = events.filter((e) => e.type === "update").map((e) => (e.data as any).content.text).join("");
    expect(text).toBe("cwd=/workspace uid=1000");
    sse.close();
    await server.api("DELETE", `/v1/sessions/${res.body.id}`);
  });
});
