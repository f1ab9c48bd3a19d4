/**
 * @module sqlite-cluster — the node and lease records of the embedded store. SQLite serves one node, so these
 * keep single-node meaning: the node takes every live session at start-up (a lease another node id holds is one
 * a previous run of this server left), and there is no doorbell (no `notify`/`listen`).
 */
import type Database from "better-sqlite3";
import type { StoreV1 } from "@airlock/protocol";
import { toLease, toNode } from "./rows.ts";
import type { QueryName } from "./sql.ts";

type Row = Record<string, any>;
type ClusterMethods = Pick<
  StoreV1,
  | "heartbeat"
  | "listNodes"
  | "removeNode"
  | "claimSession"
  | "claimExpired"
  | "renewLeases"
  | "releaseLeases"
  | "releaseNodeLeases"
  | "addCommand"
  | "takeCommands"
  | "commandSessions"
  | "sessionHeads"
>;

export function sqliteCluster(db: Database.Database, st: () => Record<QueryName, Database.Statement>): ClusterMethods {
  return {
    async heartbeat(node) {
      st().heartbeat.run({ id: node.id, url: node.url, startedAt: node.startedAt, now: Date.now() });
    },
    async listNodes(aliveAfter) {
      return (st().listNodes.all({ aliveAfter }) as Row[]).map(toNode);
    },
    async removeNode(id) {
      st().removeNode.run({ id });
    },
    async claimSession(sessionId, node, ttlMs) {
      const row = st().claimSession.get({ id: sessionId, node, now: Date.now(), ttl: ttlMs }) as Row | undefined;
      return row ? toLease(row)! : null;
    },
    async claimExpired(node, ttlMs, limit) {
      const rows = st().claimExpired.all({ node, now: Date.now(), ttl: ttlMs, limit }) as Row[];
      return rows.map((r) => ({ sessionId: r.id, lease: toLease(r)! }));
    },
    async renewLeases(node, leases, ttlMs) {
      const now = Date.now();
      return db.transaction(() =>
        leases.filter((l) => st().renewLease.run({ id: l.sessionId, node, epoch: l.epoch, now, ttl: ttlMs }).changes > 0).map((l) => l.sessionId),
      )();
    },
    async releaseLeases(node, sessionIds) {
      db.transaction(() => sessionIds.forEach((id) => st().releaseLease.run({ id, node })))();
    },
    async releaseNodeLeases(node) {
      st().releaseNodeLeases.run({ node });
    },
    async addCommand(sessionId, kind) {
      st().addCommand.run({ sessionId, kind, now: Date.now() });
    },
    async takeCommands(sessionId) {
      const rows = st().takeCommands.all({ sessionId }) as Row[];
      return rows.sort((a, b) => a.id - b.id).map((r) => ({ id: r.id, sessionId: r.session_id, kind: r.kind, createdAt: r.created_at }));
    },
    async commandSessions(node) {
      return (st().commandSessions.all({ node }) as Row[]).map((r) => r.id);
    },
    async sessionHeads(sessionIds) {
      return sessionIds.flatMap((id) => {
        const row = st().sessionLastSeq.get(id) as Row | undefined;
        return row ? [{ id: row.id as string, lastSeq: row.last_seq as number }] : [];
      });
    },
  };
}
