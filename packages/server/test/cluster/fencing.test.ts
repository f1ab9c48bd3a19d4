/**
 * Fencing: the owner is paused (SIGSTOP) past its lease while its session streams; another node takes the
 * session over; when the old owner runs again (SIGCONT) it must not append a single event, and it lets go.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { SseReader, hasStatus, turnEnded } from "../harness.ts";
import { type Cluster, leaseTtlMs, ownerOf, startCluster, storedLog, waitUntil } from "./nodes.ts";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster(2);
}, 120_000);
afterAll(async () => {
  for (const n of cluster?.nodes ?? []) n.proc.kill("SIGCONT");
  await cluster?.stop();
}, 60_000);

const chunks = (events: AirlockEvent[], turnId: string) =>
  events.filter((e) => e.type === "update" && e.turnId === turnId).map((e) => (e.data as any).content?.text as string);

describe("fencing", () => {
  it("keeps an owner paused past its lease from appending once another node took over, and it lets go", async () => {
    const [a, b] = cluster.nodes;
    const id: string = (await a.api("POST", "/v1/sessions", { agent: "scripted" })).body.id;
    const onB = new SseReader(`${b.url}/v1/sessions/${id}/events`);
    await onB.waitFor(hasStatus("ready"), 30_000, "ready");
    const turnId: string = (await a.api("POST", `/v1/sessions/${id}/prompt`, { text: "slow 5" })).body.turnId;
    await onB.waitFor((evs) => chunks(evs, turnId).length >= 5, 30_000, "5 chunks");

    a.proc.kill("SIGSTOP");
    await waitUntil("node-b to take over", leaseTtlMs + 5000, async () => (await ownerOf(b, id)) === "node-b");
    const takenAt = (await storedLog(b, id)).length;
    await onB.waitFor((evs) => (evs.at(-1)?.seq ?? 0) > takenAt + 5, 30_000, "events from the new owner");
    a.proc.kill("SIGCONT");
    // A prompt that reaches the old owner as it wakes: whether its commit is refused there (the lease moved) or the
    // node already let go, the prompt is the new owner's to run, never a 409.
    const raced = await a.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo raced the wake-up" });
    expect(raced.status, JSON.stringify(raced.body)).toBe(202);

    // The old owner wakes up, finds its lease gone (or its next commit refused), and lets the session go.
    await waitUntil("node-a to let go", 10_000, async () => (await a.api("GET", "/healthz")).body.liveSessions === 0);
    await onB.waitFor(turnEnded(turnId), 30_000, "the turn's end");
    await onB.waitFor(turnEnded(raced.body.turnId), 30_000, "the raced prompt's turn");
    const expected = Array.from({ length: 50 }, (_, i) => `chunk ${i + 1}`);
    expect(chunks(onB.events, turnId).join("").match(/chunk \d+/g)).toEqual(expected);
    const log = await storedLog(b, id);
    expect(log.filter((e) => e.type === "turn.ended" && e.turnId === turnId).length).toBe(1);
    expect(log.filter((e) => e.type === "turn.ended" && e.turnId === raced.body.turnId).length).toBe(1);
    // Nothing after the takeover came from node-a: its log says it let go, and the session is node-b's.
    expect(a.log()).toMatch(/letting (it|the session) go/);
    expect(await ownerOf(a, id)).toBe("node-b");
    // And node-b still drives it: a new prompt on node-a is run by node-b.
    const next = await a.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo still here" });
    await onB.waitFor(turnEnded(next.body.turnId), 30_000, "a later turn");
    onB.close();
  }, 120_000);
});
