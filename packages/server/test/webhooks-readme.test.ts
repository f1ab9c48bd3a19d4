/**
 * The README's webhook receiver, run as written: a real server delivers a session's events to it, and it writes
 * them into a real PostgreSQL database, each once, refusing a request with a bad signature.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { type TestDatabase, createTestDatabase } from "@airlock/testkit";
import { type TestServer, removeDir, startServer } from "./harness.ts";
import { until } from "./webhook-receivers.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "../../..");

let server: TestServer | undefined;
let db: TestDatabase | undefined;
let receiver: ChildProcess | undefined;
let folder: string | undefined;
afterAll(async () => {
  receiver?.kill("SIGKILL");
  await server?.stop();
  if (server) removeDir(server.dataDir);
  await db?.drop();
  if (folder) removeDir(folder);
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

it("the README's receiver verifies the signature and writes every event into PostgreSQL once", async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const code = readme.slice(readme.indexOf("## Webhooks")).match(/```js\n([\s\S]*?)```/)![1];
  expect(code.split("\n").filter((l) => l.trim()).length).toBeLessThanOrEqual(20);

  db = await createTestDatabase("readme_webhook");
  server = await startServer({ AIRLOCK_WEBHOOK_BACKOFF_MS: "100", AIRLOCK_WEBHOOK_MAX_BACKOFF_MS: "500" });
  const port = await freePort();
  const hook = (await server.api("POST", "/v1/webhooks", { url: `http://127.0.0.1:${port}/` })).body;
  // Next to the repository's node_modules, so `import pg from "pg"` resolves as in a project that installed it.
  folder = mkdtempSync(join(here, ".readme-webhook-"));
  writeFileSync(join(folder, "receiver.mjs"), code);
  receiver = spawn(process.execPath, [join(folder, "receiver.mjs")], {
    env: { PATH: process.env.PATH, DATABASE_URL: db.url, AIRLOCK_WEBHOOK_SECRET: hook.secret, PORT: String(port) },
    stdio: ["ignore", "inherit", "inherit"],
  });
  await until(() => listening(port), 20_000, "the receiver");

  const session = (await server.api("POST", "/v1/sessions", { agent: "scripted" })).body;
  await until(async () => (await server!.api("GET", `/v1/sessions/${session.id}`)).body.status === "ready", 30_000, "ready");
  await server.api("POST", `/v1/sessions/${session.id}/prompt`, { text: "burst 40" });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const log = await until(
      async () => {
        const view = (await server!.api("GET", `/v1/sessions/${session.id}`)).body;
        const events = (await server!.api("GET", `/v1/sessions/${session.id}/events?limit=1000`)).body.events;
        const stored = await client.query("SELECT count(*)::int AS n FROM airlock_events").catch(() => ({ rows: [{ n: 0 }] }));
        return view.status === "ready" && events.some((e: any) => e.type === "turn.ended") && stored.rows[0].n === view.lastSeq && events;
      },
      30_000,
      "every event in PostgreSQL",
    );
    const rows = (await client.query("SELECT session_id, seq::int AS seq, type, data FROM airlock_events ORDER BY seq")).rows;
    expect(rows).toEqual(log.map((e: any) => ({ session_id: session.id, seq: e.seq, type: e.type, data: e.data })));

    // A body signed with another secret is refused and stores nothing.
    const body = JSON.stringify({ sessionId: session.id, events: [{ sessionId: session.id, seq: 999, type: "error", data: {} }] });
    const forged = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body, headers: { "airlock-signature": `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}` } });
    expect(forged.status).toBe(401);
    const unsigned = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body });
    expect(unsigned.status).toBe(401);
    expect((await client.query("SELECT count(*)::int AS n FROM airlock_events WHERE seq = 999")).rows[0].n).toBe(0);
  } finally {
    await client.end();
  }
}, 120_000);
