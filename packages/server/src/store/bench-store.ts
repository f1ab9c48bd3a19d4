/**
 * @module bench-store — commit throughput of the SQLite store, the way the driver uses it: one batch of small
 * events per journal chunk. Not a test; prints events/s.
 *
 * `npx tsx packages/server/src/store/bench-store.ts [events=200000] [batch=500] [sessions=1]`
 * With several sessions their commits overlap (one `Promise.all` round per batch), as live sessions do.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NewEvent, type SessionRecord, newId } from "@airlock/protocol";
import { createSqliteStore } from "./sqlite.ts";

const [total = 200_000, batchSize = 500, sessionCount = 1] = process.argv.slice(2).map(Number);

function session(): SessionRecord {
  const now = Date.now();
  return {
    id: newId("session"),
    tenant: "bench",
    agent: "scripted",
    provider: "local",
    status: "running",
    statusReason: null,
    options: { permissionMode: "ask", idleTimeoutSec: 60, network: false },
    metadata: {},
    lastSeq: 0,
    journalOffset: 0,
    sandbox: null,
    acpSessionId: null,
    usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
    idleDeadline: null,
    agentCrashes: 0,
    createdAt: now,
    updatedAt: now,
  };
}

// A streamed agent message: the most common event by far.
const batch = (n: number, from: number): NewEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    type: "update",
    turnId: "turn_0000000000000000000000",
    data: { sessionUpdate: "agent_message_chunk", content: { type: "text", text: `token ${from + i} ` } },
  }));

const dir = mkdtempSync(join(tmpdir(), "airlock-bench-store-"));
try {
  const store = createSqliteStore({ path: join(dir, "bench.db") });
  await store.migrate();
  const sessions = Array.from({ length: sessionCount }, session);
  for (const s of sessions) await store.createSession(s, []);
  const rounds = Math.ceil(total / (batchSize * sessionCount));
  // Build the batches first: the bench measures the store, not the making of test data.
  const work = Array.from({ length: rounds }, (_, r) => sessions.map(() => batch(batchSize, r * batchSize)));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let offset = 0;
  for (const round of work) {
    offset++;
    await Promise.all(sessions.map((s, i) => store.commit(s.id, { events: round[i], journalOffset: offset })));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // CPU time as well: on a shared machine wall time mostly measures the neighbours.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const events = rounds * batchSize * sessionCount;
  const last = await store.getSession(sessions[0].id);
  if (last?.lastSeq !== rounds * batchSize) throw new Error(`expected seq ${rounds * batchSize}, stored ${last?.lastSeq}`);
  await store.close();
  console.log(
    `${events} events in batches of ${batchSize} over ${sessionCount} session(s): ${Math.round(events / seconds).toLocaleString("en")} events/s (${(seconds * 1000).toFixed(0)} ms); ${Math.round(events / cpuSeconds).toLocaleString("en")} events per CPU-second`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
