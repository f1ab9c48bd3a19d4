/**
 * Claude Code keeps running in its sandbox while the control plane is killed or stopped and started again:
 * the restarted server serves the session's gateway socket again, so the same agent process calls the LLM
 * for the next turn, with its context.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, type RecordedRequest, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { SseReader, type TestServer, hasStatus, pidsMatching, removeDir, startServer, textOf, turnEnded } from "./harness.ts";

let llm: FakeAnthropic;
let server: TestServer;
beforeAll(async () => {
  llm = await startFakeAnthropic({ apiKey: "sk-ant-restart" });
  server = await startServer({ ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: "sk-ant-restart" });
});
afterAll(async () => {
  await server?.stop();
  await llm?.close();
  if (server) removeDir(server.dataDir);
});

const isMainLoop = (r: RecordedRequest) => Array.isArray(r.body?.tools) && r.body.tools.length > 0;

describe("a restart of the control plane", () => {
  it("leaves Claude Code running with its route to the gateway, after SIGKILL and after SIGTERM", async () => {
    const created = await server.api("POST", "/v1/sessions", { agent: "claude" });
    const id = created.body.id as string;
    let sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await sse.waitFor(hasStatus("ready"), 60_000, "ready");
    llm.respond((r) => ({ text: isMainLoop(r) ? `Reply number ${llm.requests.filter(isMainLoop).length}.` : "A title" }));
    const t1 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "The secret word is heron." })).body.turnId;
    await sse.waitFor(turnEnded(t1), 60_000, "first turn");
    // This session's agent: its environment holds the session's gateway token (other test files run agents too).
    const ofSession = () =>
      pidsMatching("claude-agent-acp").filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/environ`, "utf8").includes(`gw_${id}_`);
        } catch {
          return false;
        }
      });
    const agentPids = ofSession();
    expect(agentPids.length).toBeGreaterThan(0);

    for (const stop of ["SIGKILL", "SIGTERM"] as const) {
      sse.close();
      const last = sse.events.at(-1)!.seq;
      if (stop === "SIGKILL") await server.kill();
      else {
        const exited = new Promise((r) => server.proc.once("exit", r));
        server.proc.kill("SIGTERM");
        await exited;
      }
      await server.restart();
      sse = new SseReader(`${server.url}/v1/sessions/${id}/events`, last);
      const before = llm.requests.length;
      const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: `What was the word? (after ${stop})` })).body.turnId;
      const events = await sse.waitFor(turnEnded(turn), 60_000, `turn after ${stop}`);
      expect((events.find((e) => e.type === "turn.ended" && e.turnId === turn)!.data as any).stopReason).toBe("end_turn");
      expect(textOf(events, turn)).toMatch(/Reply number \d+\./);
      const main = llm.requests.slice(before).filter(isMainLoop).at(-1)!;
      expect(JSON.stringify(main.body.messages)).toContain("heron");
      // The same agent process, never restarted.
      expect(ofSession()).toEqual(agentPids);
    }
    sse.close();
  });
});
