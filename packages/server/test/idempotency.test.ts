/**
 * Idempotent prompts and answers over HTTP: `Idempotency-Key` (or `requestId`) on `POST .../prompt` and
 * `POST .../interactions/:iid`, against a real server with the scripted agent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseReader, type TestServer, hasStatus, removeDir, startServer, storeKinds, turnEnded } from "./harness.ts";

describe.each(storeKinds)("idempotency (%s store)", (store) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({}, undefined, { store });
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  async function newSession() {
    const res = await server.api("POST", "/v1/sessions", { agent: "scripted" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`);
    await sse.waitFor(hasStatus("ready"), 20_000, "ready");
    return { id: res.body.id as string, sse };
  }

  const prompt = (id: string, body: Record<string, unknown>, key?: string) =>
    server.api("POST", `/v1/sessions/${id}/prompt`, body, key === undefined ? {} : { "idempotency-key": key });

  describe("idempotent prompts", () => {
    it("queue one turn however often, and however concurrently, they are retried", async () => {
      const { id, sse } = await newSession();
      // One slow turn first, so the retries below find theirs still queued.
      const slow = await prompt(id, { text: "slow 1" });
      const answers = [await prompt(id, { text: "echo once" }, "key-1")];
      answers.push(...(await Promise.all([1, 2, 3].map(() => prompt(id, { text: "echo once" }, "key-1")))));
      answers.push(await prompt(id, { text: "echo once", requestId: "key-1" }));
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
      const turnId = answers[0].body.turnId;
      expect(answers.every((a) => a.body.turnId === turnId)).toBe(true);
      expect((await server.api("GET", `/v1/sessions/${id}`)).body.queuedTurns).toBeLessThanOrEqual(1);
      const events = await sse.waitFor(turnEnded(turnId), 20_000, "the keyed turn's end");
      expect(events.filter((e) => e.type === "turn.started").map((e) => e.turnId)).toEqual([slow.body.turnId, turnId]);
      // After the turn ended, a retry still gets the same answer and starts nothing.
      const late = await prompt(id, { text: "echo once" }, "key-1");
      expect(late).toMatchObject({ status: 202, body: { turnId } });
      const view = await server.api("GET", `/v1/sessions/${id}`);
      expect(view.body.queuedTurns).toBe(0);
      expect(view.body.lastSeq).toBe(sse.events.at(-1)!.seq);
      sse.close();
    });

    it("refuse a different prompt under a used key (422), and a bad or contradictory key (400), changing nothing", async () => {
      const { id, sse } = await newSession();
      const first = await prompt(id, { text: "echo a" }, "k");
      await sse.waitFor(turnEnded(first.body.turnId));
      const before = (await server.api("GET", `/v1/sessions/${id}`)).body.lastSeq;
      const other = await prompt(id, { text: "echo b" }, "k");
      expect(other.status).toBe(422);
      expect(other.body.error).toMatchObject({ code: "idempotency_key_reused", message: expect.stringContaining('Idempotency-Key "k" was already used') });
      expect((await prompt(id, { text: "echo a" }, "has space")).status).toBe(400);
      expect((await prompt(id, { text: "echo a" }, "x".repeat(256))).status).toBe(400);
      const both = await prompt(id, { text: "echo a", requestId: "k2" }, "k3");
      expect(both.status).toBe(400);
      expect(both.body.error.message).toMatch(/requestId/);
      expect((await server.api("GET", `/v1/sessions/${id}`)).body).toMatchObject({ lastSeq: before, queuedTurns: 0 });
      sse.close();
    });
  });

  describe("idempotent answers", () => {
    it("resolve once: a retry gets the first resolution (200), another answer under the key a 422, another key a 409", async () => {
      const { id, sse } = await newSession();
      const { body } = await prompt(id, { text: "permission" });
      const [requested] = (await sse.waitFor((es) => es.some((e) => e.type === "interaction.requested"))).filter((e) => e.type === "interaction.requested");
      const iid = (requested.data as { interactionId: string }).interactionId;
      const answer = (optionId: string, key?: string) => server.api("POST", `/v1/sessions/${id}/interactions/${iid}`, { optionId }, key ? { "idempotency-key": key } : {});
      const answers = await Promise.all([answer("allow", "a-1"), answer("allow", "a-1"), answer("allow", "a-1")]);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answers[1].body).toEqual(answers[0].body);
      expect(answers[0].body).toMatchObject({ interactionId: iid, optionId: "allow", outcome: "selected" });
      await sse.waitFor(turnEnded(body.turnId));
      expect((await answer("allow", "a-1")).body).toEqual(answers[0].body);
      expect((await answer("reject", "a-1")).status).toBe(422);
      expect((await answer("allow", "a-2")).status).toBe(409);
      const keyedBody = await server.api("POST", `/v1/sessions/${id}/interactions/${iid}`, { optionId: "allow", requestId: "a-1" });
      expect(keyedBody).toMatchObject({ status: 200, body: answers[0].body });
      expect(sse.events.filter((e) => e.type === "interaction.resolved")).toHaveLength(1);
      sse.close();
    });
  });
});
