/**
 * The SSE writer against a real HTTP connection: live frames in order, gaps and slow clients caught up from the
 * store (never a lost or repeated event), and the end of a final log.
 */
import { type IncomingMessage, type Server, createServer, get } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { EventRow } from "@airlock/protocol";
import { EventBus } from "../sessions/bus.ts";
import { type EventSource, writeSse } from "./events.ts";

const sessionId = "ses_test";

/** The store's side: every row ever committed, and whether the log is final. */
function memorySource() {
  const rows: EventRow[] = [];
  let final = false;
  const source: EventSource = {
    async readEvents(_id, after, limit) {
      return rows.filter((r) => r.seq > after).slice(0, limit);
    },
    async isFinal() {
      return final;
    },
  };
  const make = (n: number, text = "x"): EventRow[] => {
    const made = Array.from({ length: n }, (_, i): EventRow => ({ seq: rows.length + i + 1, sessionId, at: 1_700_000_000_000, type: "update", turnId: null, data: JSON.stringify({ text }) }));
    rows.push(...made);
    return made;
  };
  return { source, rows, make, end: () => (final = true) };
}

let server: Server | null = null;
afterEach(() => new Promise<void>((r) => (server ? (server.close(() => r()), server.closeAllConnections()) : r())));

async function serve(source: EventSource, bus: EventBus, after = 0): Promise<string> {
  server = createServer((_req, res) => writeSse(res, sessionId, after, source, bus));
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** An SSE reader that collects the ids it receives; `res` can be paused to play a slow client. */
function reader(url: string) {
  const ids: number[] = [];
  let text = "";
  let ended = false;
  let res: IncomingMessage | null = null;
  const opened = new Promise<void>((resolve) =>
    get(url, (r) => {
      res = r;
      r.setEncoding("utf8");
      r.on("data", (chunk: string) => {
        text += chunk;
        let end: number;
        while ((end = text.indexOf("\n\n")) >= 0) {
          const id = /^id: (\d+)$/m.exec(text.slice(0, end));
          if (id) ids.push(Number(id[1]));
          text = text.slice(end + 2);
        }
      });
      r.once("end", () => (ended = true));
      resolve();
    }),
  );
  return { ids, opened, get res() { return res!; }, get ended() { return ended; } };
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
};
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A bus, a store holding `backlog` events, and a client reading the stream from `after`. */
async function connect(backlog = 0, after = 0) {
  const bus = new EventBus();
  const store = memorySource();
  store.make(backlog);
  const client = reader(await serve(store.source, bus, after));
  await client.opened;
  return { bus, store, client };
}

describe("SSE writer", () => {
  it("sends the backlog, then live events as they are published, in order", async () => {
    const { bus, store, client } = await connect(5, 2);
    await until(() => client.ids.length === 3);
    for (let i = 0; i < 20; i++) bus.publish(sessionId, store.make(1 + (i % 3)));
    await until(() => client.ids.length === store.rows.length - 2);
    expect(client.ids).toEqual(range(3, store.rows.length));
  });

  it("reads from the store what a gap in the published events left out", async () => {
    const { bus, store, client } = await connect();
    bus.publish(sessionId, store.make(2));
    await until(() => client.ids.length === 2);
    store.make(3); // committed, never published
    bus.publish(sessionId, store.make(2));
    await until(() => client.ids.length === 7);
    expect(client.ids).toEqual(range(1, 7));
  });

  it("a client too slow for the live queue catches up from the store, losing and repeating nothing", async () => {
    const { bus, store, client } = await connect();
    client.res.pause();
    // About 24 MB: more than the sockets' buffers (a few MB on loopback) and the 1 MB live queue hold. Nothing is
    // published after it, so only the store can deliver what the dropped queue held.
    const text = "y".repeat(4000);
    for (let i = 0; i < 600; i++) bus.publish(sessionId, store.make(10, text));
    await new Promise((r) => setTimeout(r, 50));
    client.res.resume();
    await until(() => client.ids.length >= store.rows.length);
    expect(client.ids).toEqual(range(1, store.rows.length));
  });

  it("ends the stream when the log is final, and a publish after the client left changes nothing", async () => {
    const { bus, store, client } = await connect();
    const [row] = store.make(1);
    store.end();
    bus.publish(sessionId, [{ ...row, type: "session.status", data: JSON.stringify({ status: "stopped" }) }]);
    await until(() => client.ended);
    expect(client.ids).toEqual([1]);
    expect(bus.subscriberCount(sessionId)).toBe(0);
    expect(() => bus.publish(sessionId, store.make(1))).not.toThrow();
  });

  it("ends at once after the backlog of a log that was already final when the client came", async () => {
    const bus = new EventBus();
    const store = memorySource();
    store.make(12);
    store.end();
    const client = reader(await serve(store.source, bus, 3));
    await client.opened;
    // Well before the first heartbeat (15 s), which would otherwise be the next look at the store.
    await until(() => client.ended, 3000);
    expect(client.ids).toEqual(range(4, 12));
  });
});
