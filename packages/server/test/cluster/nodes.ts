/**
 * Several Airlock nodes for the cluster tests: real server processes on their own ports, one PostgreSQL database
 * and one data folder shared by all (so each can reach the others' local sandboxes), short leases.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AirlockEvent } from "@airlock/protocol";
import { type TestDatabase, createTestDatabase } from "@airlock/testkit";
import { type TestServer, removeDir, startServer } from "../harness.ts";

export interface Cluster {
  nodes: TestServer[];
  /** Node ids by index, as each node's /healthz says. */
  ids: string[];
  db: TestDatabase;
  dataDir: string;
  stop(): Promise<void>;
}

/** Lease settings of the tests: a dead owner's sessions move within about 1.5 s. */
export const leaseEnv = { AIRLOCK_LEASE_TTL_MS: "1500", AIRLOCK_LEASE_RENEW_MS: "300", AIRLOCK_FOLLOW_POLL_MS: "300" };
export const leaseTtlMs = 1500;

export async function startCluster(count: number, env: Record<string, string> = {}): Promise<Cluster> {
  const db = await createTestDatabase("cluster");
  const dataDir = mkdtempSync(join(tmpdir(), "airlock-cluster-"));
  const nodes: TestServer[] = [];
  const ids: string[] = [];
  try {
    // One after the other: the first makes the data folder's files (installation id, gateway secret).
    for (let i = 0; i < count; i++) {
      const id = `node-${"abcdefgh"[i]}`;
      nodes.push(await startServer({ DATABASE_URL: db.url, AIRLOCK_NODE_ID: id, ...leaseEnv, ...env }, dataDir));
      ids.push(id);
    }
  } catch (err) {
    for (const n of nodes) await n.kill().catch(() => {});
    await db.drop();
    throw err;
  }
  return {
    nodes,
    ids,
    db,
    dataDir,
    async stop() {
      // The first live node deletes the sessions (the harness's stop); the rest only end.
      const live = nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
      for (const [i, n] of live.entries()) {
        if (i === 0) await n.stop().catch(() => {});
        else await n.kill().catch(() => {});
      }
      await db.drop().catch(() => {});
      removeDir(dataDir);
    },
  };
}

/** The stored log, page by page, from any node. */
export async function storedLog(node: TestServer, id: string): Promise<AirlockEvent[]> {
  const out: AirlockEvent[] = [];
  for (;;) {
    const page = await node.api("GET", `/v1/sessions/${id}/events?after=${out.at(-1)?.seq ?? 0}&limit=1000`);
    if (page.status !== 200) throw new Error(`events: ${page.status} ${JSON.stringify(page.body)}`);
    const events = page.body.events as AirlockEvent[];
    if (events.length === 0) return out;
    out.push(...events);
  }
}

export async function ownerOf(node: TestServer, id: string): Promise<string | null> {
  const s = await node.api("GET", `/v1/sessions/${id}`);
  return s.body.owner?.node ?? null;
}

export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
