/**
 * @module postgres/cluster — nodes, leases and commands on PostgreSQL, and the doorbell: LISTEN on a connection of
 * its own (not pooled: it lives as long as the node), NOTIFY as a plain statement.
 *
 * The doorbell only says "look": a node reads new events by seq from the tables, so a notification that is lost
 * (the listening connection broke) or late costs latency, never an event. `onReconnect` tells the listener that
 * notifications may have been missed, so it looks at once.
 */
import pg from "pg";
import type { StoreChannel, StoreV1 } from "@airlock/protocol";
import { toLease, toNode } from "../rows.ts";
import type { QueryName } from "./sql.ts";

type Row = Record<string, any>;
type Query = (name: QueryName, values: Record<string, unknown>) => Promise<pg.QueryResult<Row>>;
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
  | "notify"
  | "listen"
>;

const channels: StoreChannel[] = ["events", "commands", "leases"];
const pgChannel = (c: StoreChannel) => `airlock_${c}`;

export function postgresCluster(q: Query, clientConfig: pg.ClientConfig, onError: (error: unknown) => void): ClusterMethods {
  return {
    async heartbeat(node) {
      await q("heartbeat", { id: node.id, url: node.url, startedAt: node.startedAt });
    },
    async listNodes(aliveAfter) {
      return (await q("listNodes", { aliveAfter })).rows.map(toNode);
    },
    async removeNode(id) {
      await q("removeNode", { id });
    },
    async claimSession(sessionId, node, ttlMs) {
      const { rows } = await q("claimSession", { id: sessionId, node, ttl: ttlMs });
      return rows[0] ? toLease(rows[0])! : null;
    },
    async claimExpired(node, ttlMs, limit) {
      const { rows } = await q("claimExpired", { node, ttl: ttlMs, limit });
      return rows.map((r) => ({ sessionId: r.id as string, lease: toLease(r)! }));
    },
    async renewLeases(node, leases, ttlMs) {
      if (leases.length === 0) return [];
      const { rows } = await q("renewLeases", { node, ttl: ttlMs, ids: leases.map((l) => l.sessionId), epochs: leases.map((l) => l.epoch) });
      return rows.map((r) => r.id as string);
    },
    async releaseLeases(node, sessionIds) {
      if (sessionIds.length) await q("releaseLeases", { node, ids: sessionIds });
    },
    async releaseNodeLeases(node) {
      await q("releaseNodeLeases", { node });
    },
    async addCommand(sessionId, kind) {
      await q("addCommand", { sessionId, kind });
    },
    async takeCommands(sessionId) {
      const { rows } = await q("takeCommands", { sessionId });
      return rows.sort((a, b) => a.id - b.id).map((r) => ({ id: r.id, sessionId: r.session_id, kind: r.kind, createdAt: r.created_at }));
    },
    async commandSessions(node) {
      return (await q("commandSessions", { node })).rows.map((r) => r.id as string);
    },
    async sessionHeads(sessionIds) {
      if (sessionIds.length === 0) return [];
      return (await q("sessionHeads", { ids: sessionIds })).rows.map((r) => ({ id: r.id as string, lastSeq: r.last_seq as number }));
    },
    async notify(channel, payload) {
      await q("notify", { channel: pgChannel(channel), payload });
    },
    async listen(onMessage, onReconnect) {
      let closed = false;
      let client: pg.Client | null = null;
      let retry: NodeJS.Timeout | null = null;
      const connect = async (): Promise<void> => {
        const c = new pg.Client({ ...clientConfig, keepAlive: true });
        c.on("notification", (n) => {
          const channel = channels.find((ch) => pgChannel(ch) === n.channel);
          if (channel) onMessage(channel, n.payload ?? "");
        });
        const lost = (error?: unknown) => {
          if (closed || client !== c) return;
          if (error) onError(error);
          client = null;
          c.end().catch(() => {});
          retry = setTimeout(() => void reconnect(), 1000);
        };
        c.on("error", lost);
        c.on("end", () => lost());
        client = c;
        await c.connect();
        for (const ch of channels) await c.query(`LISTEN ${pgChannel(ch)}`);
      };
      const reconnect = async () => {
        if (closed) return;
        try {
          await connect();
          onReconnect();
        } catch (error) {
          onError(error);
          client = null;
          if (!closed) retry = setTimeout(() => void reconnect(), 1000);
        }
      };
      await connect();
      return {
        async close() {
          closed = true;
          if (retry) clearTimeout(retry);
          await client?.end().catch(() => {});
        },
      };
    },
  };
}
