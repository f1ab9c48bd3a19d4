/**
 * Sessions end to end through the public HTTP/SSE API: real server process, real bubblewrap sandbox,
 * the test kit's scripted ACP agent; once on SQLite, once on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { SseReader, type TestServer, agentProcesses, hasStatus, removeDir, startServer, storeKinds, textOf, turnEnded } from "./harness.ts";
import { showServerLogOnFailure } from "./server-log.ts";

let server: TestServer;
showServerLogOnFailure(() => server);

async function newSession(body: Record<string, unknown> = {}) {
  const res = await server.api("POST", "/v1/sessions", { agent: "scripted", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.status).toBe("provisioning");
  const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`);
  await sse.waitFor(hasStatus("ready"), 20_000, "ready");
  return { id: res.body.id as string, sse };
}

async function prompt(id: string, text: string): Promise<string> {
  const res = await server.api("POST", `/v1/sessions/${id}/prompt`, { text });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.turnId;
}

const ofTurn = (events: AirlockEvent[], turnId: string) => events.filter((e) => e.turnId === turnId);

// The same sessions on either store: the store is all that differs between a node on SQLite and one on PostgreSQL.
describe.each(storeKinds)("a session (%s store)", (store) => {
  beforeAll(async () => {
    server = await startServer({}, undefined, { store });
  });
  afterAll(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
  });

  it("runs on the store it was given", async () => {
    expect((await server.api("GET", "/healthz")).body).toMatchObject({ ok: true, store });
  });

  it("streams a turn in order: turn.started, updates, turn.ended, and settles ready", async () => {
    const { id, sse } = await newSession();
    const turnId = await prompt(id, "think about it");
    const events = await sse.waitFor(turnEnded(turnId), 20_000, "turn end");
    const turn = ofTurn(events, turnId);
    expect(turn[0].type).toBe("turn.started");
    expect(turn.at(-1)!.type).toBe("turn.ended");
    expect((turn.at(-1)!.data as any).stopReason).toBe("end_turn");
    const kinds = turn.filter((e) => e.type === "update").map((e) => (e.data as any).sessionUpdate);
    expect(kinds).toContain("agent_thought_chunk");
    expect(kinds).toContain("agent_message_chunk");
    // status: running while the turn runs, ready after
    await sse.waitFor((evs) => evs.at(-1)!.type === "session.status" && (evs.at(-1)!.data as any).status === "ready");
    expect(events.some((e) => e.type === "session.status" && (e.data as any).status === "running")).toBe(true);
    const view = await server.api("GET", `/v1/sessions/${id}`);
    expect(view.body.status).toBe("ready");
    expect(view.body.lastSeq).toBe(sse.events.at(-1)!.seq);
    sse.close();
  });

  it("keeps context across turns and runs queued prompts in order", async () => {
    const { id, sse } = await newSession();
    const t1 = await prompt(id, "echo first");
    const t2 = await prompt(id, "echo second");
    const t3 = await prompt(id, "recall");
    const events = await sse.waitFor(turnEnded(t3), 20_000, "third turn");
    const started = events.filter((e) => e.type === "turn.started").map((e) => (e.data as any).turnId);
    expect(started).toEqual([t1, t2, t3]);
    // a turn starts only after the previous one ended
    const endOf = (t: string) => events.findIndex((e) => e.type === "turn.ended" && (e.data as any).turnId === t);
    const startOf = (t: string) => events.findIndex((e) => e.type === "turn.started" && (e.data as any).turnId === t);
    expect(endOf(t1)).toBeLessThan(startOf(t2));
    expect(endOf(t2)).toBeLessThan(startOf(t3));
    expect(textOf(events, t1)).toContain("first");
    expect(textOf(events, t3)).toContain("echo first");
    expect(textOf(events, t3)).toContain("echo second");
    sse.close();
  });

  it("turns a permission request into a durable interaction: allow once, a second answer gets 409", async () => {
    const { id, sse } = await newSession();
    const turnId = await prompt(id, "permission please");
    const events = await sse.waitFor((evs) => evs.some((e) => e.type === "interaction.requested"), 20_000, "permission request");
    const req = events.find((e) => e.type === "interaction.requested")!.data as any;
    expect(req.kind).toBe("permission");
    expect(req.options.map((o: any) => o.kind)).toEqual(["allow_once", "allow_always", "reject_once"]);
    await sse.waitFor(hasStatus("awaiting_input"));
    const view = await server.api("GET", `/v1/sessions/${id}`);
    expect(view.body.status).toBe("awaiting_input");
    expect(view.body.pendingInteractions.map((i: any) => i.id)).toEqual([req.interactionId]);

    const bad = await server.api("POST", `/v1/sessions/${id}/interactions/${req.interactionId}`, { optionId: "nope" });
    expect(bad.status).toBe(400);
    const ok = await server.api("POST", `/v1/sessions/${id}/interactions/${req.interactionId}`, { optionId: "allow" });
    expect(ok.status).toBe(200);
    const again = await server.api("POST", `/v1/sessions/${id}/interactions/${req.interactionId}`, { optionId: "reject" });
    expect(again.status).toBe(409);

    const all = await sse.waitFor(turnEnded(turnId), 20_000, "turn end");
    const resolved = all.filter((e) => e.type === "interaction.resolved");
    expect(resolved).toHaveLength(1);
    expect((resolved[0].data as any).optionId).toBe("allow");
    expect(textOf(all, turnId)).toContain("Permission granted");
    // the agent wrote through fs/write_text_file: a file.changed event and the file in the workspace
    expect(all.some((e) => e.type === "file.changed" && (e.data as any).path === "permitted.txt")).toBe(true);
    const file = await server.api("GET", `/v1/sessions/${id}/files?path=permitted.txt`);
    expect(file.status).toBe(200);
    expect(file.body.content).toBe("approved\n");
    const diff = await server.api("GET", `/v1/sessions/${id}/diff`);
    expect(diff.body.diff).toContain("+approved");
    sse.close();
  });

  it("turns an elicitation into a question answered through the API", async () => {
    const { id, sse } = await newSession();
    const turnId = await prompt(id, "ask");
    const events = await sse.waitFor((evs) => evs.some((e) => e.type === "interaction.requested"), 20_000, "question");
    const req = events.find((e) => e.type === "interaction.requested")!.data as any;
    expect(req.kind).toBe("question");
    expect(req.prompt).toBeTruthy();
    expect(req.schema.properties.name).toBeTruthy();
    expect((await server.api("POST", `/v1/sessions/${id}/interactions/${req.interactionId}`, { optionId: "x" })).status).toBe(400);
    const ok = await server.api("POST", `/v1/sessions/${id}/interactions/${req.interactionId}`, { answer: { name: "Ada", colour: "blue" } });
    expect(ok.status).toBe(200);
    const all = await sse.waitFor(turnEnded(turnId));
    expect(textOf(all, turnId)).toContain("Ada");
    expect(all.find((e) => e.type === "interaction.resolved")!.data).toMatchObject({ outcome: "answered", answer: { name: "Ada" } });
    sse.close();
  });

  it("a rejected permission writes nothing", async () => {
    const { id, sse } = await newSession();
    const turnId = await prompt(id, "permission");
    const events = await sse.waitFor((evs) => evs.some((e) => e.type === "interaction.requested"));
    const req = events.find((e) => e.type === "interaction.requested")!.data as any;
    expect((await server.api("POST", `/v1/sessions/${id}/interactions/${req.interactionId}`, { optionId: "reject" })).status).toBe(200);
    const all = await sse.waitFor(turnEnded(turnId));
    expect(textOf(all, turnId)).toContain("Permission denied");
    expect(all.some((e) => e.type === "file.changed")).toBe(false);
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=permitted.txt`)).status).toBe(404);
    sse.close();
  });

  it("cancel ends a running turn with `cancelled`, and the next prompt works", async () => {
    const { id, sse } = await newSession();
    const slow = await prompt(id, "slow 30");
    await sse.waitFor((evs) => ofTurn(evs, slow).filter((e) => e.type === "update").length >= 2, 20_000, "slow chunks");
    const res = await server.api("POST", `/v1/sessions/${id}/cancel`);
    expect(res.status).toBe(202);
    const events = await sse.waitFor(turnEnded(slow), 10_000, "cancelled turn end");
    expect((events.find((e) => e.type === "turn.ended")!.data as any).stopReason).toBe("cancelled");
    const next = await prompt(id, "echo after cancel");
    const after = await sse.waitFor(turnEnded(next));
    expect(textOf(after, next)).toContain("after cancel");
    expect((await server.api("POST", `/v1/sessions/${id}/cancel`)).status).toBe(409);
    sse.close();
  });

  it("resumes SSE from any Last-Event-ID with no gap or duplicate, and two subscribers see identical logs", async () => {
    const { id, sse } = await newSession();
    const second = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    const turnId = await prompt(id, "burst 3000");
    await sse.waitFor(turnEnded(turnId), 30_000, "burst end");
    await second.waitFor(turnEnded(turnId), 30_000, "burst end (second)");
    const lastSeq = sse.events.at(-1)!.seq;
    await second.waitFor((evs) => evs.at(-1)!.seq >= lastSeq);
    expect(second.events.slice(0, sse.events.length).map((e) => JSON.stringify(e))).toEqual(sse.events.map((e) => JSON.stringify(e)));
    for (const from of [0, 1, 7, 1234, lastSeq - 1]) {
      const resumed = new SseReader(`${server.url}/v1/sessions/${id}/events`, from);
      await resumed.waitFor((evs) => (evs.at(-1)?.seq ?? from) >= lastSeq, 20_000, `resume from ${from}`);
      expect(resumed.events[0]?.seq ?? from + 1).toBe(from + 1);
      expect(resumed.events.map((e) => e.seq)).toEqual(sse.events.filter((e) => e.seq > from && e.seq <= resumed.events.at(-1)!.seq).map((e) => e.seq));
      resumed.close();
    }
    // ?after= and JSON pages agree with the stream
    const page = await server.api("GET", `/v1/sessions/${id}/events?after=10&limit=50`);
    expect(page.body.events.map((e: any) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 11 + i));
    expect(page.body.nextAfter).toBe(60);
    expect(page.body.events[0]).toEqual(sse.events[10]);
    sse.close();
    second.close();
  });

  it("an agent crash stops the session, not fails it: the turn ends with the error, the next prompt starts the agent again with its history", async () => {
    const { id, sse } = await newSession();
    const first = await prompt(id, "echo heron");
    await sse.waitFor(turnEnded(first), 20_000, "first turn");
    const turnId = await prompt(id, "crash");
    const events = await sse.waitFor(hasStatus("stopped"), 20_000, "stopped");
    const error = events.find((e) => e.type === "error" && (e.data as any).code === "agent_exited");
    expect(error?.data).toMatchObject({ exitCode: 3, signal: null, message: expect.stringContaining("exited unexpectedly (code 3)") });
    const ended = events.find((e) => e.type === "turn.ended" && (e.data as any).turnId === turnId);
    expect(ended!.data).toMatchObject({ stopReason: "error", error: expect.stringContaining("exited unexpectedly") });
    const view = await server.api("GET", `/v1/sessions/${id}`);
    expect(view.body).toMatchObject({ status: "stopped", final: false, statusReason: expect.stringContaining("next prompt starts the agent again") });
    // The workspace is still there, and the next prompt brings the agent back with what was said (session/load).
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=`)).status).toBe(200);
    const again = await prompt(id, "recall");
    const after = await sse.waitFor(turnEnded(again), 20_000, "recall after the crash");
    expect(textOf(after, again)).toContain("echo heron");
    expect(after.some((e) => e.type === "error" && (e.data as any).code === "context_lost")).toBe(false);
    sse.close();
  });

  it("kill -9 of an idle agent: the session stops with the exit signal; a prompt queued behind a crashing turn runs at once", async () => {
    const { id, sse } = await newSession();
    const [pid] = agentProcesses(server.dataDir, id, "scripted-agent");
    expect(pid, "the scripted agent's process").toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    const stopped = await sse.waitFor((evs) => evs.some((e) => e.type === "error" && (e.data as any).code === "agent_exited"), 20_000, "agent_exited");
    expect(stopped.find((e) => (e.data as any).code === "agent_exited")!.data).toMatchObject({ signal: "SIGKILL" });
    await sse.waitFor(hasStatus("stopped"), 20_000, "stopped");
    // A crash mid-turn with a prompt queued: the agent starts again by itself and runs it.
    const crashing = await prompt(id, "crash");
    const queued = await prompt(id, "echo still here");
    const events = await sse.waitFor(turnEnded(queued), 30_000, "the queued turn");
    expect(events.find((e) => e.type === "turn.ended" && (e.data as any).turnId === crashing)!.data).toMatchObject({ stopReason: "error" });
    expect(events.find((e) => e.type === "turn.ended" && (e.data as any).turnId === queued)!.data).toMatchObject({ stopReason: "end_turn" });
    expect(textOf(events, queued)).toContain("still here");
    sse.close();
  });

  it("restarts an agent that cannot reload its session with a new one, and says that earlier context was lost", async () => {
    const { id, sse } = await newSession({ env: { SCRIPTED_NO_LOAD: "1" } });
    const turnId = await prompt(id, "crash");
    await sse.waitFor(turnEnded(turnId), 20_000, "crash");
    await sse.waitFor(hasStatus("stopped"), 20_000, "stopped");
    const again = await prompt(id, "echo fresh start");
    const events = await sse.waitFor(turnEnded(again), 20_000, "the next turn");
    const lost = events.find((e) => e.type === "error" && (e.data as any).code === "context_lost");
    expect(lost?.data).toMatchObject({ message: expect.stringContaining("earlier context was lost") });
    expect((events.find((e) => e.type === "turn.ended" && (e.data as any).turnId === again)!.data as any).stopReason).toBe("end_turn");
    sse.close();
  });

  it("fails the session after three crashes in a row without a completed turn, with a reason that says so", async () => {
    const { id, sse } = await newSession();
    for (let i = 1; i <= 3; i++) {
      const turnId = await prompt(id, "crash");
      await sse.waitFor(turnEnded(turnId), 30_000, `crash ${i}`);
      await sse.waitFor((evs) => evs.filter((e) => e.type === "error" && (e.data as any).code === "agent_exited").length === i, 30_000, `crash ${i} recorded`);
    }
    const events = await sse.waitFor(hasStatus("failed"), 20_000, "failed");
    expect(events.filter((e) => e.type === "error" && (e.data as any).code === "agent_exited")).toHaveLength(3);
    const view = await server.api("GET", `/v1/sessions/${id}`);
    expect(view.body).toMatchObject({ status: "failed", final: true, statusReason: expect.stringContaining("3 times in a row") });
    expect((await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "hi" })).status).toBe(409);
    sse.close();
  });

  it("lists sessions newest first with cursor paging and metadata filters", async () => {
    const a = await server.api("POST", "/v1/sessions", { agent: "scripted", metadata: { team: "red" } });
    const b = await server.api("POST", "/v1/sessions", { agent: "scripted", metadata: { team: "blue" } });
    const red = await server.api("GET", "/v1/sessions?metadata.team=red");
    expect(red.body.sessions.map((s: any) => s.id)).toEqual([a.body.id]);
    const first = await server.api("GET", "/v1/sessions?limit=1");
    expect(first.body.sessions[0].id).toBe(b.body.id);
    const next = await server.api("GET", `/v1/sessions?limit=1&before=${first.body.nextCursor}`);
    expect(next.body.sessions[0].id).toBe(a.body.id);
    for (const s of [a, b]) await server.api("DELETE", `/v1/sessions/${s.body.id}`);
  });
});
