/**
 * SIGKILL of the server while a permission request waits: after the restart the request is still pending,
 * answerable from any client, and resolved exactly once — of two answers sent together one wins, the other
 * gets 409, and the log holds one `interaction.resolved`.
 */
import { describe, expect, it } from "vitest";
import { hasStatus, textOf } from "../harness.ts";
import { DurableSubscriber, report, rounds, serverForFile, storedLog, timeoutMs } from "./chaos.ts";

const serverOf = serverForFile();

describe("SIGKILL with a permission request pending", () => {
  it("keeps it answerable after the restart, and takes exactly one answer", async () => {
    const server = serverOf();
    const cycles = rounds(1, 10);
    const created = await server.api("POST", "/v1/sessions", { agent: "scripted" });
    const id: string = created.body.id;
    const sub = new DurableSubscriber(() => `${server.url}/v1/sessions/${id}/events`);
    await sub.waitFor(hasStatus("ready"), 30_000, "ready");
    let conflicts = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const turnId: string = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "permission" })).body.turnId;
      await sub.waitFor((evs) => evs.some((e) => e.type === "interaction.requested" && e.turnId === turnId), 30_000, "the request");
      await server.kill();
      await server.restart();
      sub.reconnect();
      const view = (await server.api("GET", `/v1/sessions/${id}`)).body;
      expect(view.status).toBe("awaiting_input");
      expect(view.pendingInteractions).toHaveLength(1);
      const iid = view.pendingInteractions[0].id;
      // Two clients answer at once, differently: one answer is taken, the other refused.
      const answers = await Promise.all(["allow", "reject"].map((optionId) => server.api("POST", `/v1/sessions/${id}/interactions/${iid}`, { optionId })));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, 409]);
      conflicts++;
      const taken = answers.find((a) => a.status === 200)!.body.optionId as string;
      await sub.waitFor((evs) => evs.some((e) => e.type === "turn.ended" && e.turnId === turnId), 30_000, "the turn's end");
      expect(textOf(sub.events, turnId)).toContain(taken === "allow" ? "Permission granted" : "Permission denied");
      // A late third answer is refused too.
      expect((await server.api("POST", `/v1/sessions/${id}/interactions/${iid}`, { optionId: "allow" })).status).toBe(409);
    }
    const log = await storedLog(server, id);
    const requested = log.filter((e) => e.type === "interaction.requested").length;
    const resolved = log.filter((e) => e.type === "interaction.resolved").length;
    report("SIGKILL with a pending permission", { cycles, requested, resolved, refusedSecondAnswers: conflicts });
    expect([requested, resolved]).toEqual([cycles, cycles]);
    sub.close();
  }, timeoutMs);
});
