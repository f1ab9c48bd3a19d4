/**
 * The journal as the control plane reads it over HTTP: gapless, both directions, streams from any offset
 * (also from records the in-memory tail no longer holds), long-poll, auth and input errors.
 */
import http from "node:http";
import type { JournalRecord } from "@airlock/protocol";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SandboxdClient, SandboxdError } from "../src/index.ts";
import { Lab, type Sandbox } from "./harness.ts";

const lab = new Lab();
const open: Sandbox[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.stop();
});
afterAll(() => {
  const leftovers = lab.killLeftovers();
  lab.cleanup();
  expect(leftovers).toEqual([]);
});

async function start(options: Parameters<Lab["start"]>[0] = {}) {
  const s = await lab.start(options);
  open.push(s);
  return s;
}

const seqsOf = (records: JournalRecord[]) => records.map((r) => r.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

/** Streams from `after` until the record `lastSeq` arrives; returns every record received. */
async function streamUntil(client: SandboxdClient, after: number, lastSeq: number): Promise<{ records: JournalRecord[]; batches: number }> {
  const abort = new AbortController();
  const records: JournalRecord[] = [];
  let batches = 0;
  await client.follow(
    after,
    (batch) => {
      batches++;
      records.push(...batch);
      if (records.at(-1)!.seq >= lastSeq) abort.abort();
    },
    abort.signal,
  );
  return { records, batches };
}

describe("journal over HTTP", () => {
  it("records both directions in order with a gapless seq starting at 1", async () => {
    const s = await start();
    const init = await s.request("initialize", { protocolVersion: 1 });
    expect(init.protocolVersion).toBe(1);
    expect(await s.request("burst", { n: 100 })).toEqual({ sent: 100 });
    const records = await s.readAll();
    expect(seqsOf(records)).toEqual(range(1, records.length));
    expect(records[0]).toMatchObject({ seq: 1, kind: "started", pid: s.state.agentPid });
    for (const r of records) expect(typeof r.at).toBe("number");

    const clients = records.filter((r) => r.kind === "client") as Array<JournalRecord & { kind: "client" }>;
    expect(clients.map((r) => (r.msg as any).method)).toEqual(["initialize", "burst"]);
    const answers = records.filter((r) => r.kind === "agent" && (r.msg as any).id !== undefined) as Array<JournalRecord & { kind: "agent" }>;
    expect(answers.map((r) => (r.msg as any).id)).toEqual(["t1", "t2"]);
    // Each request is journaled before the agent's answer to it.
    expect(clients[0].seq).toBeLessThan(answers[0].seq);
    expect(clients[1].seq).toBeLessThan(answers[1].seq);
    const updates = records.filter((r) => r.kind === "agent" && (r.msg as any).method === "session/update");
    expect(updates.map((r) => (r as any).msg.params.update.content.text)).toEqual(range(0, 99).map((i) => `${i}:xxxxxxxx`));
    // The raw line is kept as the agent wrote it.
    expect((updates[0] as any).msg).toEqual({ jsonrpc: "2.0", method: "session/update", params: { sessionId: "s1", update: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: "0:xxxxxxxx" } } } });

    const health = await s.client.health();
    expect(health).toMatchObject({ ok: true, agentPid: s.state.agentPid, agentRunning: true, exit: null, lastSeq: records.at(-1)!.seq, ackedSeq: 0 });
  });

  it("streams exactly the records after any offset, from the file as well as from memory, then the live tail", async () => {
    const s = await start();
    // ~15 MB of journal: more than the 8 MB the relay keeps in memory.
    await s.request("burst", { n: 60_000, size: 150 }, 30_000);
    const lastSeq = (await s.client.health()).lastSeq;
    expect(lastSeq).toBeGreaterThan(60_000);

    for (const after of [0, 12_345, lastSeq - 1500, lastSeq - 3]) {
      const { records } = await streamUntil(s.client, after, lastSeq);
      expect(records[0].seq).toBe(after + 1);
      expect(records.at(-1)!.seq).toBe(lastSeq);
      // No gap and no duplicate.
      records.forEach((r, i) => expect(r.seq).toBe(after + 1 + i));
    }
    const old = await s.client.read(100, 3);
    expect(seqsOf(old)).toEqual([101, 102, 103]);

    // The live tail: a stream opened at the end receives what happens next.
    const abort = new AbortController();
    const live: JournalRecord[] = [];
    const reading = s.client.follow(
      lastSeq,
      (batch) => {
        live.push(...batch);
        if (live.some((r) => r.kind === "agent" && (r.msg as any).id === "live")) abort.abort();
      },
      abort.signal,
    );
    await new Promise((r) => setTimeout(r, 100));
    await s.client.send({ jsonrpc: "2.0", id: "live", method: "echo", params: { hello: 1 } });
    await reading;
    expect(live.map((r) => r.kind)).toEqual(["client", "agent"]);
    expect(seqsOf(live)).toEqual([lastSeq + 1, lastSeq + 2]);
    expect((live[1] as any).msg.result).toEqual({ hello: 1 });
  });

  it("honours back-pressure: a reader that pauses still gets everything, once", async () => {
    const s = await start();
    await s.request("burst", { n: 20_000, size: 100 }, 30_000);
    const lastSeq = (await s.client.health()).lastSeq;
    const abort = new AbortController();
    let expected = 1;
    let slept = 0;
    const sizes: number[] = [];
    // A bound on waiting records below the burst, so the socket is paused and resumed.
    await s.client.follow(
      0,
      async (batch) => {
        sizes.push(batch.length);
        for (const r of batch) expect(r.seq).toBe(expected++);
        if (slept++ < 5) await new Promise((r) => setTimeout(r, 100)); // the socket fills while we sleep
        if (expected > lastSeq) abort.abort();
      },
      abort.signal,
      5000,
    );
    expect(expected).toBe(lastSeq + 1);
    // What arrived while a batch was handled came as one batch: more than the relay writes at once (2,000).
    expect(Math.max(...sizes)).toBeGreaterThan(2000);
  });

  it("long-polls: waits for the next record, or answers empty when none comes", async () => {
    const s = await start();
    await s.request("echo", {});
    const last = (await s.client.health()).lastSeq;

    let t = Date.now();
    expect(await s.client.read(last, 100, 300)).toEqual([]);
    expect(Date.now() - t).toBeGreaterThanOrEqual(250);

    t = Date.now();
    const waiting = s.client.read(last, 100, 10_000);
    setTimeout(() => void s.client.send({ jsonrpc: "2.0", method: "session/cancel", params: {} }), 200);
    const got = await waiting;
    expect(Date.now() - t).toBeLessThan(5000);
    expect(got.map((r) => [r.seq, r.kind])).toEqual([[last + 1, "client"]]);

    // limit bounds the page.
    expect(seqsOf(await s.client.read(0, 2, 0))).toEqual([1, 2]);
  });

  it("refuses requests without the right bearer token", async () => {
    const s = await start();
    const wrong = new SandboxdClient({ ...s.endpoint, token: "nope" });
    for (const call of [() => wrong.health(), () => wrong.read(0), () => wrong.send({ jsonrpc: "2.0", method: "x" }), () => wrong.ack(1), () => wrong.shutdown()]) {
      const err = await call().then(
        () => null,
        (e) => e,
      );
      expect(err).toBeInstanceOf(SandboxdError);
      expect(err.status).toBe(401);
      expect(err.code).toBe("unauthorized");
    }
    const bare = await raw(s, "GET", "/health", undefined, {});
    expect(bare.status).toBe(401);
    expect(JSON.parse(bare.body)).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
    // Nothing was sent to the agent, and it still runs.
    expect((await s.client.health()).agentRunning).toBe(true);
    expect((await s.readAll()).filter((r) => r.kind === "client")).toEqual([]);
  });

  it("rejects bad input with JSON errors, acknowledges monotonically, journals stderr and non-JSON lines", async () => {
    const s = await start({ limits: { maxLineBytes: 1000 } });
    expect((await raw(s, "POST", "/send", "{not json")).status).toBe(400);
    expect((await raw(s, "POST", "/send", "[1,2]")).status).toBe(400);
    expect((await raw(s, "POST", "/ack", '{"seq":-1}')).status).toBe(400);
    expect((await raw(s, "GET", "/journal?after=abc")).status).toBe(400);
    expect((await raw(s, "GET", "/nowhere")).status).toBe(404);
    expect((await raw(s, "POST", "/health", "{}")).status).toBe(405);
    const big = await raw(s, "POST", "/send", "x".repeat(17 * 1024 * 1024));
    expect(big.status).toBe(413);

    await s.request("echo", {});
    await s.request("echo", {});
    // An acknowledgement never goes back, nor past what exists.
    expect(await s.client.ack(5)).toEqual({ ackedSeq: 5 });
    expect(await s.client.ack(3)).toEqual({ ackedSeq: 5 });
    expect((await s.client.health()).ackedSeq).toBe(5);
    const { lastSeq } = await s.client.health();
    expect(await s.client.ack(lastSeq + 100)).toEqual({ ackedSeq: lastSeq });

    await s.request("stderr", { text: "warning: ünïcode\n" });
    await s.request("raw", { text: "this is not JSON" });
    await s.request("raw", { text: '{"json":"but not JSON-RPC"}' });
    await s.request("raw", { text: JSON.stringify({ jsonrpc: "2.0", method: "x", params: { pad: "p".repeat(5000) } }) });
    expect(await s.request("echo", { still: "fine" })).toEqual({ still: "fine" });
    await s.waitFor("stderr", (r) => r.kind === "stderr");
    const records = await s.readAll();
    expect(seqsOf(records)).toEqual(range(1, records.length));
    expect(records.filter((r) => r.kind === "stderr").map((r) => (r as any).data).join("")).toBe("warning: ünïcode\n");
    const garbage = records.filter((r) => r.kind === "garbage").map((r) => (r as any).data as string);
    expect(garbage.slice(0, 2)).toEqual(["this is not JSON", '{"json":"but not JSON-RPC"}']);
    expect(garbage[2]).toMatch(/^\[a line of \d+ bytes, over the limit of 1000, was dropped\] \{"jsonrpc"/);
    expect(garbage[2].length).toBeLessThan(400);
    // Nothing of the bad requests reached the agent.
    expect(records.filter((r) => r.kind === "client").length).toBe(7);
  });

  it("listens on TCP with a port picked at start", async () => {
    const s = await start({ tcp: true });
    expect("port" in s.state.listen && s.state.listen.port).toBeGreaterThan(0);
    expect(await s.request("echo", { over: "tcp" })).toEqual({ over: "tcp" });
  });
});

function raw(s: Sandbox, method: string, path: string, body?: string, headers: Record<string, string> = { authorization: `Bearer ${s.endpoint.token}` }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: s.endpoint.socketPath, path, method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
