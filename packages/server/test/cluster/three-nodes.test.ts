/**
 * Three nodes on one PostgreSQL: a session made on A, watched from A, B and C, prompted on C, answered on B,
 * cancelled on C. Every command takes effect wherever it was sent, and every subscriber on every node holds the
 * same log as the store, in order, once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseReader, hasStatus, turnEnded } from "../harness.ts";
import { type Cluster, ownerOf, startCluster, storedLog, waitUntil } from "./nodes.ts";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster(3);
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe("three nodes on one PostgreSQL", () => {
  it("takes commands on any node and streams the same log from every node", async () => {
    const [a, b, c] = cluster.nodes;
    const health = await b.api("GET", "/healthz");
    expect(health.body).toMatchObject({ store: "postgres", node: "node-b" });
    expect(health.body.nodes.map((n: { id: string }) => n.id)).toEqual(["node-a", "node-b", "node-c"]);

    const created = await a.api("POST", "/v1/sessions", { agent: "scripted" });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const subscribers = [a, b, c].map((n) => new SseReader(`${n.url}/v1/sessions/${id}/events`));
    await subscribers[1].waitFor(hasStatus("ready"), 30_000, "ready on B");
    expect(await ownerOf(c, id)).toBe("node-a");

    // A prompt on C that asks for permission; the answer on B (a second answer, on C, is refused once).
    const first = await c.api("POST", `/v1/sessions/${id}/prompt`, { text: "permission" });
    expect(first.status).toBe(202);
    const asked = await subscribers[1].waitFor((evs) => evs.some((e) => e.type === "interaction.requested"), 30_000, "the permission request on B");
    const interactionId = (asked.find((e) => e.type === "interaction.requested")!.data as any).interactionId as string;
    const answered = await b.api("POST", `/v1/sessions/${id}/interactions/${interactionId}`, { optionId: "allow" });
    expect(answered.status).toBe(200);
    const again = await c.api("POST", `/v1/sessions/${id}/interactions/${interactionId}`, { optionId: "reject" });
    expect(again.status).toBe(409);
    for (const s of subscribers) await s.waitFor(turnEnded(first.body.turnId), 30_000, "the permission turn's end");

    // The workspace of A's sandbox, read through C and B (the sandbox is on the shared data folder).
    const file = await c.api("GET", `/v1/sessions/${id}/files?path=permitted.txt`);
    expect(file.status).toBe(200);
    expect(JSON.stringify(file.body)).toContain("approved");
    expect((await b.api("GET", `/v1/sessions/${id}/diff`)).status).toBe(200);

    // A long turn prompted on C, cancelled on C.
    const slow = await c.api("POST", `/v1/sessions/${id}/prompt`, { text: "slow 20" });
    await subscribers[0].waitFor((evs) => evs.some((e) => e.type === "update" && e.turnId === slow.body.turnId), 30_000, "the slow turn's first chunk");
    const cancelled = await c.api("POST", `/v1/sessions/${id}/cancel`);
    expect(cancelled.status).toBe(202);
    for (const s of subscribers) await s.waitFor(turnEnded(slow.body.turnId), 30_000, "the cancelled turn's end");
    const end = subscribers[2].events.find((e) => e.type === "turn.ended" && (e.data as any).turnId === slow.body.turnId)!;
    expect((end.data as any).stopReason).toBe("cancelled");

    // Keepalive from B, a budget from C: both answered by nodes that do not own the session.
    expect((await b.api("POST", `/v1/sessions/${id}/keepalive`)).status).toBe(200);
    expect((await c.api("PATCH", `/v1/sessions/${id}`, { budgetUsd: 5 })).body.budgetUsd).toBe(5);

    const log = await waitUntil("a quiet log", 10_000, async () => {
      const l = await storedLog(b, id);
      return (await b.api("GET", `/v1/sessions/${id}`)).body.status === "ready" && l;
    });
    for (const s of subscribers) {
      await s.waitFor((evs) => (evs.at(-1)?.seq ?? 0) >= log.length, 10_000, "every event");
      expect(s.events).toEqual(log);
      s.close();
    }

    // DELETE on B stops the session A drives.
    expect((await b.api("DELETE", `/v1/sessions/${id}`)).status).toBe(202);
    const after = await a.api("GET", `/v1/sessions/${id}`);
    expect(after.body).toMatchObject({ status: "stopped", hasWorkspace: false, owner: null });
  }, 120_000);

  it("hands a node's sessions over at once when it shuts down (SIGTERM)", async () => {
    const [a, b] = cluster.nodes;
    const id: string = (await a.api("POST", "/v1/sessions", { agent: "scripted" })).body.id;
    const onB = new SseReader(`${b.url}/v1/sessions/${id}/events`);
    await onB.waitFor(hasStatus("ready"), 30_000, "ready");
    const exited = new Promise((r) => a.proc.once("exit", r));
    const stoppedAt = Date.now();
    a.proc.kill("SIGTERM");
    await exited;
    const owner = await waitUntil("a new owner", 5000, async () => {
      const o = await ownerOf(b, id);
      return o && o !== "node-a" ? o : null;
    });
    // Well before the lease would have expired: the lease was handed back, not waited out.
    expect(Date.now() - stoppedAt).toBeLessThan(1500);
    expect(["node-b", "node-c"]).toContain(owner);
    const turn = await b.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo handed over" });
    await onB.waitFor(turnEnded(turn.body.turnId), 30_000, "a turn on the new owner");
    expect((await b.api("GET", "/healthz")).body.nodes.map((n: { id: string }) => n.id)).not.toContain("node-a");
    onB.close();
  }, 60_000);
});
