/**
 * Failover: the owner of a streaming session is SIGKILLed; another node takes the session over within the
 * lease TTL + 2 s, re-attaches to its sandbox from the stored journal offset, and the turn goes on. Subscribers
 * on the surviving nodes, and one that comes back on another node with Last-Event-ID, get every chunk once and
 * the turn's end once. Then the new owner dies with a permission pending, and an answer and a prompt sent to
 * the last node meanwhile are not lost.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { SseReader, hasStatus, turnEnded } from "../harness.ts";
import { type Cluster, leaseTtlMs, ownerOf, startCluster, storedLog, waitUntil } from "./nodes.ts";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster(3);
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

const chunkIndexes = (events: AirlockEvent[], turnId: string) =>
  events.filter((e) => e.type === "update" && e.turnId === turnId).flatMap((e) => {
    const i = ((e.data as any)._meta ?? (e.data as any).content?._meta)?.i;
    return typeof i === "number" ? [i] : [];
  });

describe("failover between nodes", () => {
  it("moves a streaming session off a SIGKILLed owner without losing or repeating a chunk; commands sent meanwhile are kept", async () => {
    const [a, b, c] = cluster.nodes;
    const id: string = (await a.api("POST", "/v1/sessions", { agent: "scripted" })).body.id;
    const onA = new SseReader(`${a.url}/v1/sessions/${id}/events`);
    const onB = new SseReader(`${b.url}/v1/sessions/${id}/events`);
    const onC = new SseReader(`${c.url}/v1/sessions/${id}/events`);
    await onB.waitFor(hasStatus("ready"), 30_000, "ready");
    expect(await ownerOf(b, id)).toBe("node-a");

    const count = 2000;
    const turnId: string = (await b.api("POST", `/v1/sessions/${id}/prompt`, { text: `burst ${count} rate 500` })).body.turnId;
    await onB.waitFor((evs) => chunkIndexes(evs, turnId).length >= 300, 30_000, "300 chunks");
    const killedAt = Date.now();
    await a.kill();
    // A subscriber of the dead node comes back on C from the last event it had.
    const lastSeen = onA.events.at(-1)?.seq ?? 0;
    onA.close();
    const resumed = new SseReader(`${c.url}/v1/sessions/${id}/events`, lastSeen);

    const newOwner = await waitUntil("a new owner", leaseTtlMs + 5000, async () => {
      const owner = await ownerOf(b, id);
      return owner && owner !== "node-a" ? owner : null;
    });
    const tookOverMs = Date.now() - killedAt;
    expect(tookOverMs).toBeLessThan(leaseTtlMs + 2000);

    for (const s of [onB, onC, resumed]) await s.waitFor(turnEnded(turnId), 30_000, "the burst turn's end");
    const expected = Array.from({ length: count }, (_, i) => i);
    expect(chunkIndexes(onB.events, turnId)).toEqual(expected);
    expect(chunkIndexes(onC.events, turnId)).toEqual(expected);
    expect(chunkIndexes([...onA.events, ...resumed.events], turnId)).toEqual(expected);
    for (const s of [onB, onC]) expect(s.events.filter((e) => e.type === "turn.ended").length).toBe(1);
    const log = await storedLog(b, id);
    expect(log.filter((e) => e.type === "turn.ended").length).toBe(1);

    // The new owner dies with a permission pending; the last node is sent the answer and a prompt meanwhile.
    const [owner, other] = newOwner === "node-b" ? [b, c] : [c, b];
    const watch = new SseReader(`${other.url}/v1/sessions/${id}/events`);
    const asking: string = (await other.api("POST", `/v1/sessions/${id}/prompt`, { text: "permission" })).body.turnId;
    const asked = await watch.waitFor((evs) => evs.some((e) => e.type === "interaction.requested" && e.turnId === asking), 30_000, "the permission request");
    const interactionId = (asked.find((e) => e.type === "interaction.requested" && e.turnId === asking)!.data as any).interactionId;
    await owner.kill();
    const answer = await other.api("POST", `/v1/sessions/${id}/interactions/${interactionId}`, { optionId: "allow" });
    expect(answer.status).toBe(200);
    const next = await other.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo after the failover" });
    expect(next.status).toBe(202);
    await watch.waitFor(turnEnded(asking), 30_000, "the answered turn's end");
    await watch.waitFor(turnEnded(next.body.turnId), 30_000, "the prompt sent meanwhile to end");
    expect(await ownerOf(other, id)).toBe(other === b ? "node-b" : "node-c");
    const final = await storedLog(other, id);
    await watch.waitFor((evs) => (evs.at(-1)?.seq ?? 0) >= final.length, 10_000, "every event");
    expect(watch.events).toEqual(final.slice(final.length - watch.events.length));
    for (const s of [onB, onC, resumed, watch]) s.close();
  }, 120_000);
});
