/**
 * SIGKILL of the server mid-turn, over and over: the agent goes on while no server runs, and after each
 * restart the turn completes. Subscribers that come back with Last-Event-ID and the JSON pages must all hold
 * the stored log exactly: nothing lost, nothing twice, nothing reordered or changed; every chunk the agent
 * streamed is there once, in order.
 */
import { describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { hasStatus } from "../harness.ts";
import { compareWithLog, DurableSubscriber, report, rounds, serverForFile, storedLog, timeoutMs } from "./chaos.ts";

const serverOf = serverForFile();

const chunksOf = (events: AirlockEvent[], turnId: string) =>
  events
    .filter((e) => e.type === "update" && e.turnId === turnId && (e.data as any).sessionUpdate === "agent_message_chunk")
    .map((e) => (e.data as any).content.text as string)
    .join("");

describe("SIGKILL of the server mid-turn, in a loop", () => {
  it("loses, repeats and reorders no event, for subscribers that come back and for the JSON pages", async () => {
    const server = serverOf();
    const cycles = rounds(2, 20);
    const created = await server.api("POST", "/v1/sessions", { agent: "scripted" });
    const id: string = created.body.id;
    const url = () => `${server.url}/v1/sessions/${id}/events`;
    const subscribers = [new DurableSubscriber(url), new DurableSubscriber(url)];
    await subscribers[0].waitFor(hasStatus("ready"), 30_000, "ready");
    const seconds = 2;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const turnId: string = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: `slow ${seconds}` })).body.turnId;
      // Killed at a different point of the turn each time.
      const before = 1 + ((cycle * 7) % 15);
      await subscribers[0].waitFor((evs) => evs.filter((e) => e.turnId === turnId && e.type === "update").length >= before, 30_000, `chunk ${before} of cycle ${cycle}`);
      await server.kill();
      await new Promise((r) => setTimeout(r, (cycle % 3) * 300)); // the agent streams on while no server runs
      await server.restart();
      for (const s of subscribers) s.reconnect();
      for (const s of subscribers) await s.waitFor((evs) => evs.some((e) => e.type === "turn.ended" && e.turnId === turnId), 30_000, `turn end of cycle ${cycle}`);
      // Every chunk the agent wrote, once and in order.
      const expected = Array.from({ length: seconds * 10 }, (_, i) => `chunk ${i + 1}`);
      const text = chunksOf(subscribers[1].events, turnId);
      expect([...text.matchAll(/chunk \d+/g)].map((m) => m[0]), `cycle ${cycle}`).toEqual(expected);
      await subscribers[0].waitFor(hasStatus("ready"), 30_000, "ready again");
    }
    const log = await storedLog(server, id);
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    const totals = { cycles, events: log.length, lost: 0, duplicated: 0, reordered: 0, changed: 0 };
    for (const s of subscribers) {
      await s.waitFor((evs) => (evs.at(-1)?.seq ?? 0) >= log.length, 10_000, "the subscriber to catch up");
      const diff = compareWithLog(s.events, log);
      for (const k of ["lost", "duplicated", "reordered", "changed"] as const) totals[k] += diff[k];
      s.close();
    }
    report("SIGKILL of the server mid-turn", totals);
    expect(totals).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, changed: 0 });
  }, timeoutMs);
});
