/**
 * `kill -9` of a sandbox's relay (sandboxd) mid-turn, with one relay for all sandboxes (the default) and with
 * one per sandbox: the session stops as an idle one does (the running turn ends with the error, the workspace
 * stays, `final` is false), and the next prompt starts the relay and the agent again, with the conversation.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type TestServer, hasStatus, removeDir, startServer, textOf } from "../harness.ts";
import { DurableSubscriber, report, rounds, timeoutMs } from "./chaos.ts";

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) {
    await s.stop();
    removeDir(s.dataDir);
  }
});

/** The pid in the relay's own state file: the host relay's, or this sandbox's own. */
function relayPid(server: TestServer, id: string): number {
  return JSON.parse(readFileSync(join(server.dataDir, "sandboxes", id, "relay", "sandboxd.json"), "utf8")).pid as number;
}

describe.each([
  ["one relay for all sandboxes", "1"],
  ["a relay per sandbox", "0"],
])("kill -9 of the relay (%s)", (mode, shared) => {
  it("stops the session like an idle one; the next prompt resumes it with its history", async () => {
    const server = await startServer({ AIRLOCK_SHARED_RELAY: shared });
    servers.push(server);
    const cycles = rounds(1, 5);
    const id: string = (await server.api("POST", "/v1/sessions", { agent: "scripted" })).body.id;
    const sub = new DurableSubscriber(() => `${server.url}/v1/sessions/${id}/events`);
    await sub.waitFor(hasStatus("ready"), 30_000, "ready");
    let resumed = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const word = `heron-${cycle}`;
      const remember: string = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: `echo remember the ${word}` })).body.turnId;
      await sub.waitFor((evs) => evs.some((e) => e.type === "turn.ended" && e.turnId === remember), 30_000, "the first turn");
      const slow: string = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "slow 30" })).body.turnId;
      await sub.waitFor((evs) => evs.some((e) => e.type === "update" && e.turnId === slow), 30_000, "the slow turn running");
      const stoppedBefore = sub.events.filter((e) => e.type === "session.status" && (e.data as any).status === "stopped").length;
      process.kill(relayPid(server, id), "SIGKILL");
      await sub.waitFor((evs) => evs.filter((e) => e.type === "session.status" && (e.data as any).status === "stopped").length > stoppedBefore, 30_000, "stopped");
      const ended = sub.events.find((e) => e.type === "turn.ended" && e.turnId === slow)!.data as any;
      expect(ended.stopReason).toBe("error");
      expect(sub.events.some((e) => e.type === "error" && (e.data as any).code === "relay_lost")).toBe(true);
      const view = (await server.api("GET", `/v1/sessions/${id}`)).body;
      expect([view.status, view.final, view.hasWorkspace]).toEqual(["stopped", false, true]);

      const recall: string = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "recall" })).body.turnId;
      await sub.waitFor((evs) => evs.some((e) => e.type === "turn.ended" && e.turnId === recall), 60_000, "the turn after the restart");
      expect((sub.events.find((e) => e.type === "turn.ended" && e.turnId === recall)!.data as any).stopReason).toBe("end_turn");
      expect(textOf(sub.events, recall)).toContain(word);
      resumed++;
    }
    report(`kill -9 of the relay (${mode})`, { cycles, stoppedNotFailed: resumed, resumedWithHistory: resumed });
    sub.close();
  }, timeoutMs);
});
