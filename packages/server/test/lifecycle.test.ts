/**
 * Lifecycle through the public API: idle timeout, DELETE, a relay that dies, and a SIGKILL of the server mid-turn.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SseReader, type TestServer, hasStatus, pidsMatching, removeDir, startServer, storeKinds, textOf, turnEnded } from "./harness.ts";

let server: TestServer | null = null;
afterEach(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  server = null;
});

async function create(s: TestServer, body: Record<string, unknown> = {}) {
  const res = await s.api("POST", "/v1/sessions", { agent: "scripted", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

describe("lifecycle", () => {
  it("stops an idle session (its agent exits cleanly), never one with a pending interaction; a prompt resumes the idle one", async () => {
    server = await startServer();
    const idle = await create(server, { idleTimeoutSec: 1 });
    const waiting = await create(server, { idleTimeoutSec: 1 });
    const idleSse = new SseReader(`${server.url}/v1/sessions/${idle}/events`);
    const waitingSse = new SseReader(`${server.url}/v1/sessions/${waiting}/events`);
    await idleSse.waitFor(hasStatus("ready"));
    await waitingSse.waitFor(hasStatus("ready"));
    await server.api("POST", `/v1/sessions/${waiting}/prompt`, { text: "permission" });
    await waitingSse.waitFor(hasStatus("awaiting_input"));

    await idleSse.waitFor(hasStatus("stopped"), 10_000, "idle stop");
    const stopped = idleSse.events.find((e) => e.type === "session.status" && (e.data as any).status === "stopped")!;
    expect((stopped.data as any).reason).toMatch(/idle/);
    expect((await server.api("GET", `/v1/sessions/${idle}`)).body.status).toBe("stopped");
    // The agent (in bubblewrap) was asked to stop by the end of its stdin and exited by itself, not by a signal.
    const journal = readFileSync(join(server.dataDir, "sandboxes", idle, "relay", "journal.ndjson"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(journal.filter((r) => r.kind === "exit").at(-1)).toMatchObject({ code: 0, signal: null, requested: true });

    // well past the idle timeout, the one waiting for a human is still waiting
    await new Promise((r) => setTimeout(r, 2500));
    expect((await server.api("GET", `/v1/sessions/${waiting}`)).body.status).toBe("awaiting_input");
    // The exit record was acknowledged at once, so the relay let the sandbox go before its 2 s linger ran out.
    expect(readFileSync(join(server.dataDir, "sandboxes", idle, "relay", "sandboxd.log"), "utf8")).toContain("exiting: the exit record is acknowledged");

    // the idle session comes back on the next prompt, with its history (session/load)
    const turn = await server.api("POST", `/v1/sessions/${idle}/prompt`, { text: "recall" });
    expect(turn.status).toBe(202);
    await idleSse.waitFor(turnEnded(turn.body.turnId), 20_000, "resumed turn");
    idleSse.close();
    waitingSse.close();
  });

  it("keepalive pushes the idle deadline forward", async () => {
    server = await startServer();
    const id = await create(server, { idleTimeoutSec: 2 });
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await sse.waitFor(hasStatus("ready"));
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 700));
      const res = await server.api("POST", `/v1/sessions/${id}/keepalive`);
      expect(res.status).toBe(200);
      expect(Date.parse(res.body.idleDeadline)).toBeGreaterThan(Date.now() + 1000);
    }
    expect((await server.api("GET", `/v1/sessions/${id}`)).body.status).toBe("ready");
    sse.close();
  });

  it("a relay that dies mid-turn stops the session, not fails it: the turn ends with the error, the next prompt starts the agent again with its history", async () => {
    server = await startServer();
    const id = await create(server);
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await sse.waitFor(hasStatus("ready"));
    const t1 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo remember the heron" })).body.turnId;
    await sse.waitFor(turnEnded(t1), 20_000, "first turn");
    const t2 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "slow 30" })).body.turnId;
    await sse.waitFor((evs) => evs.some((e) => e.type === "update" && e.turnId === t2), 20_000, "second turn running");
    const hostDir = join(server.dataDir, "relay-host");
    const hostPid = JSON.parse(readFileSync(join(hostDir, readdirSync(hostDir)[0], "host.json"), "utf8")).pid as number;
    process.kill(hostPid, "SIGKILL");
    const events = await sse.waitFor(hasStatus("stopped"), 20_000, "stopped after the relay died");
    expect(events.find((e) => e.type === "error" && (e.data as any).code === "relay_lost")).toBeTruthy();
    expect((events.find((e) => e.type === "turn.ended" && e.turnId === t2)!.data as any).stopReason).toBe("error");
    const view = (await server.api("GET", `/v1/sessions/${id}`)).body;
    expect([view.status, view.final]).toEqual(["stopped", false]);

    const t3 = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "recall" })).body.turnId;
    const after = await sse.waitFor(turnEnded(t3), 30_000, "turn after the restart");
    expect((after.find((e) => e.type === "turn.ended" && e.turnId === t3)!.data as any).stopReason).toBe("end_turn");
    expect(textOf(after, t3)).toContain("remember the heron");
    expect(after.some((e) => e.type === "error" && (e.data as any).code === "context_lost")).toBe(false);
    sse.close();
  });

  it("DELETE stops the agent and leaves no process behind; the event log stays", async () => {
    server = await startServer();
    const id = await create(server);
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await sse.waitFor(hasStatus("ready"));
    // A duration no other test uses: processes are looked for machine-wide, and test files run side by side.
    await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "run sleep 347 & sleep 347" });
    await sse.waitFor((evs) => evs.some((e) => e.type === "update" && (e.data as any).sessionUpdate === "tool_call"), 20_000, "command started");
    expect(pidsMatching(id).length).toBeGreaterThan(0);
    const res = await server.api("DELETE", `/v1/sessions/${id}`);
    expect(res.status).toBe(202);
    await sse.waitFor(hasStatus("stopped"));
    await sse.done; // the stream ends once the log is final
    const deadline = Date.now() + 5000;
    while (pidsMatching(id).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pidsMatching(id)).toEqual([]);
    expect(pidsMatching("sleep 347")).toEqual([]);
    const page = await server.api("GET", `/v1/sessions/${id}/events?limit=1000`);
    expect(page.body.events.length).toBe(sse.events.length);
    expect((await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "hi" })).status).toBe(409);
  });

  it.each(storeKinds)("survives a SIGKILL of the server mid-turn (%s store): the turn completes, the log is gapless, interactions stay pending", async (store) => {
    server = await startServer({}, undefined, { store });
    const id = await create(server);
    const waiting = await create(server);
    let sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    const wsse = new SseReader(`${server.url}/v1/sessions/${waiting}/events`);
    await sse.waitFor(hasStatus("ready"));
    await wsse.waitFor(hasStatus("ready"));
    await server.api("POST", `/v1/sessions/${waiting}/prompt`, { text: "permission" });
    await wsse.waitFor(hasStatus("awaiting_input"));
    wsse.close();
    const turn = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "slow 3" })).body.turnId;
    await sse.waitFor((evs) => evs.filter((e) => e.type === "update").length >= 3, 20_000, "some chunks");
    await server.kill();
    sse.close();
    // the agent keeps working while no server runs
    await new Promise((r) => setTimeout(r, 1000));
    await server.restart();

    sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    const events = await sse.waitFor(turnEnded(turn), 20_000, "turn end after restart");
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect((events.find((e) => e.type === "turn.ended")!.data as any).stopReason).toBe("end_turn");
    const chunks = events.filter((e) => e.type === "update" && e.turnId === turn);
    expect(chunks.length).toBeGreaterThanOrEqual(25); // 3 s at one chunk per 100 ms, none lost
    // chunk texts are unique, so a duplicate would show
    const texts = chunks.map((e) => JSON.stringify(e.data));
    expect(new Set(texts).size).toBe(texts.length);
    // a new prompt works on the re-attached session
    const next = (await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo again" })).body.turnId;
    await sse.waitFor(turnEnded(next));
    expect(textOf(sse.events, next)).toContain("again");

    const view = await server.api("GET", `/v1/sessions/${waiting}`);
    expect(view.body.status).toBe("awaiting_input");
    expect(view.body.pendingInteractions).toHaveLength(1);
    const iid = view.body.pendingInteractions[0].id;
    expect((await server.api("POST", `/v1/sessions/${waiting}/interactions/${iid}`, { optionId: "allow" })).status).toBe(200);
    const w2 = new SseReader(`${server.url}/v1/sessions/${waiting}/events`);
    await w2.waitFor((evs) => evs.some((e) => e.type === "turn.ended"), 20_000, "answered after restart");
    expect(textOf(w2.events)).toContain("Permission granted");
    w2.close();
    sse.close();
  });

  it("reaps orphaned sandboxes at start-up", async () => {
    server = await startServer();
    const id = await create(server);
    const sse = new SseReader(`${server.url}/v1/sessions/${id}/events`);
    await sse.waitFor(hasStatus("ready"));
    sse.close();
    await server.kill();
    // forget the session: its sandbox is now an orphan
    const Database = (await import("better-sqlite3")).default;
    const files = (await import("node:fs")).readdirSync(server.dataDir).filter((f) => f.endsWith(".db") || f.endsWith(".sqlite"));
    const db = new Database(`${server.dataDir}/${files[0]}`);
    db.prepare("DELETE FROM sessions WHERE id = ?").run(id);
    db.close();
    expect(pidsMatching(id).length).toBeGreaterThan(0);
    await server.restart();
    const deadline = Date.now() + 10_000;
    while (pidsMatching(id).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pidsMatching(id)).toEqual([]);
  });
});
