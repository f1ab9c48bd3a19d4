/**
 * The HTTP edge: bad input gets the right 4xx and changes nothing; API keys; healthz and agents.
 */
import { spawnSync } from "node:child_process";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, removeDir, startServer } from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

/** POSTs `parts` with chunked transfer encoding (no content-length); the status and body of the answer. */
function sendChunks(url: string, parts: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    for (const part of parts) req.write(part);
    req.end();
  });
}

const count = async () => (await server.api("GET", "/v1/sessions?limit=200")).body.sessions.length;

describe("the HTTP edge", () => {
  it("answers GET …/events with a JSON page unless the stream is asked for (Accept with q-values)", async () => {
    const created = await server.api("POST", "/v1/sessions", { agent: "scripted" });
    const formats: Array<[string, string]> = [
      ["text/event-stream", "text/event-stream"],
      ["text/event-stream;q=0, */*", "application/json"],
      ["*/*", "application/json"],
      ["text/event-stream;q=0.1, application/json", "application/json"],
    ];
    for (const [accept, type] of formats) {
      const res = await fetch(`${server.url}/v1/sessions/${created.body.id}/events`, { headers: { accept } });
      expect(res.headers.get("content-type"), accept).toContain(type);
      if (type === "application/json") expect((await res.json()).events[0].seq).toBe(1);
      else await res.body?.cancel();
    }
    await server.api("DELETE", `/v1/sessions/${created.body.id}`);
  });


  it("answers healthz and lists agents with availability", async () => {
    const health = await server.api("GET", "/healthz");
    expect(health.body.eventLoopDelayMs).toEqual({ p99: expect.any(Number), max: expect.any(Number) });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, store: "sqlite", providers: ["local"] });
    // E2B is known but off here: the reason and the fix, in /healthz, /v1/providers and the 400 that names it.
    const e2bOff = { name: "e2b", configured: false, reason: "E2B_API_KEY is not set", fix: expect.stringContaining("set E2B_API_KEY") };
    expect(health.body.unconfiguredProviders).toEqual([e2bOff]);
    const providers = await server.api("GET", "/v1/providers");
    expect(providers.body.providers).toEqual([{ name: "local", configured: true, default: true, capabilities: expect.any(Object) }, e2bOff]);
    const e2b = await server.api("POST", "/v1/sessions", { agent: "scripted", provider: "e2b" });
    expect(e2b.status).toBe(400);
    expect(e2b.body.error.message).toMatch(/^provider "e2b" is not configured on this server: E2B_API_KEY is not set\. Fix: set E2B_API_KEY/);
    expect(e2b.body.error.details).toMatchObject({ provider: "e2b", fix: expect.stringContaining("E2B_API_KEY") });
    expect((await server.api("POST", "/v1/sessions", { agent: "scripted", provider: "mars" })).body.error.message).toBe('unknown provider "mars"; the providers are: local, e2b (not configured)');
    const agents = await server.api("GET", "/v1/agents");
    const byName = Object.fromEntries(agents.body.agents.map((a: any) => [a.name, a]));
    expect(byName.scripted.available).toBe(true);
    expect(byName.custom.available).toBe(false);
    expect(byName.custom.fix).toContain("AIRLOCK_ALLOW_CUSTOM_AGENT=1");
  });

  it("rejects bad input with a clear 4xx and changes nothing", async () => {
    const before = await count();
    const cases: Array<[string, string, unknown, number, RegExp?]> = [
      ["POST", "/v1/sessions", "{not json", 400, /malformed JSON/],
      ["POST", "/v1/sessions", { agent: "nope" }, 400, /unknown agent "nope"/],
      ["POST", "/v1/sessions", { agent: "custom", command: ["node"] }, 400, /not available/],
      ["POST", "/v1/sessions", { agent: "scripted", extra: 1 }, 400],
      ["POST", "/v1/sessions", { agent: "scripted", provider: "mars" }, 400, /unknown provider/],
      ["POST", "/v1/sessions", { agent: "scripted", workspace: { files: { "../escape": "x" } } }, 400, /inside the workspace/],
      ["POST", "/v1/sessions", { agent: "scripted", idleTimeoutSec: -1 }, 400],
      // Accepted once, then failed the session: now refused up front, naming the field.
      ["POST", "/v1/sessions", { agent: "scripted", workspace: { files: { ".": "x" } } }, 400, /^invalid workspace\.files\.\.: /],
      ["POST", "/v1/sessions", { agent: "scripted", workspace: { files: { a: "x", "a/b": "y" } } }, 400, /^invalid workspace\.files\.a\/b: needs "a" to be a folder/],
      ["POST", "/v1/sessions", { agent: "scripted", workspace: { files: { ["n".repeat(300)]: "x" } } }, 400, /^invalid workspace\.files\.n+: has a name longer than 255 bytes/],
      ["POST", "/v1/sessions", { agent: "scripted", env: { A: "x\0y" } }, 400, /^invalid env\.A: must not contain a NUL/],
      ["POST", "/v1/sessions", { agent: "scripted", env: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`V${i}`, "v"])) }, 400, /^invalid env: at most 100 variables/],
      ["POST", "/v1/sessions", { agent: "scripted", metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])) }, 400, /^invalid metadata: at most 32 keys/],
      ["POST", "/v1/sessions", [], 400],
      ["GET", "/v1/sessions/ses_00000000000000deadbeef", undefined, 404],
      ["GET", "/v1/sessions/whatever", undefined, 404],
      ["POST", "/v1/sessions/ses_00000000000000deadbeef/prompt", { text: "hi" }, 404],
      ["DELETE", "/v1/sessions/ses_00000000000000deadbeef", undefined, 404],
      ["GET", "/v1/sessions?limit=abc", undefined, 400],
      ["GET", "/v1/nothing-here", undefined, 404],
    ];
    for (const [method, path, body, status, message] of cases) {
      const res = await server.api(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).toBe(status);
      expect(res.body.error.code).toBeTypeOf("string");
      if (message) expect(res.body.error.message).toMatch(message);
    }
    expect(await count()).toBe(before);
  });

  it("refuses oversized prompts and bodies, and bad prompt shapes, without queuing anything", async () => {
    const created = await server.api("POST", "/v1/sessions", { agent: "scripted" });
    const id = created.body.id;
    const big = await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "x".repeat(300 * 1024) });
    expect(big.status).toBe(413);
    const huge = await server.api("POST", `/v1/sessions/${id}/prompt`, { text: "x".repeat(5 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    // Sent in chunks with no declared length, the limit holds all the same.
    const mb = Buffer.alloc(1024 * 1024, "x");
    const chunked = await sendChunks(`${server.url}/v1/sessions/${id}/prompt`, [Buffer.from('{"text":"'), mb, mb, mb, mb, mb, Buffer.from('"}')]);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).error).toMatchObject({ code: "payload_too_large", message: expect.stringMatching(/limited to 4194304 bytes/) });
    // A body in pieces is read whole: the shape is judged, not the first piece.
    const pieces = await sendChunks(`${server.url}/v1/sessions/${id}/prompt`, [Buffer.from('{"te'), Buffer.from('xt":5}')]);
    expect(pieces.status).toBe(400);
    expect(JSON.parse(pieces.body).error.message).toMatch(/^invalid text/);
    expect((await server.api("POST", `/v1/sessions/${id}/prompt`, {})).status).toBe(400);
    expect((await server.api("POST", `/v1/sessions/${id}/prompt`, { content: [{ type: "video" }] })).status).toBe(400);
    expect((await server.api("POST", `/v1/sessions/${id}/prompt`, "][")).status).toBe(400);
    expect((await server.api("POST", `/v1/sessions/${id}/interactions/int_00000000000000deadbeef`, { optionId: "x" })).status).toBe(404);
    expect((await server.api("GET", `/v1/sessions/${id}/events?after=-3`)).status).toBe(400);
    const view = await server.api("GET", `/v1/sessions/${id}`);
    expect(view.body.queuedTurns).toBe(0);
    await server.api("DELETE", `/v1/sessions/${id}`);
  });
});

const root = new URL("../../..", import.meta.url).pathname;

/** Runs the admin CLI on a data folder: exit status and what it printed. */
function cli(dataDir: string, ...args: string[]): { status: number; out: string } {
  const run = spawnSync(process.execPath, ["--import", "tsx", "packages/server/src/cli.ts", ...args], { cwd: root, env: { ...process.env, AIRLOCK_DATA_DIR: dataDir }, encoding: "utf8" });
  return { status: run.status ?? -1, out: run.stdout + run.stderr };
}
const keyOf = (out: string) => out.match(/key: (\S+)/)![1];
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("API keys and tenants", () => {
  let keyed: TestServer;
  beforeAll(async () => {
    // Debug logging: nothing the server prints may carry a key, at any level.
    keyed = await startServer({ AIRLOCK_API_KEYS: "secret-one,secret-two,acme:secret-acme", AIRLOCK_LOG_LEVEL: "debug" });
  });
  afterAll(async () => {
    await keyed?.stop();
    if (keyed) removeDir(keyed.dataDir);
  });

  it("requires a valid bearer key once keys are configured; ?access_token= only on GET …/events", async () => {
    expect((await keyed.api("GET", "/v1/sessions")).status).toBe(401);
    const bad = await keyed.api("GET", "/v1/sessions", undefined, { authorization: "Bearer wrong" });
    expect(bad.status).toBe(401);
    expect(bad.body.error.message).toMatch(/invalid API key/);
    expect((await keyed.api("GET", "/v1/sessions", undefined, bearer("secret-two"))).status).toBe(200);
    const create = await keyed.api("POST", "/v1/sessions", { agent: "scripted" }, { authorization: "Bearer nope" });
    expect(create.status).toBe(401);
    expect((await keyed.api("GET", "/v1/sessions", undefined, bearer("secret-one"))).body.sessions).toEqual([]);
    expect((await keyed.api("GET", "/healthz")).status).toBe(200);

    // A key in the URL is refused everywhere but the event stream, even when it is valid, and changes nothing.
    const s = await keyed.api("POST", "/v1/sessions", { agent: "scripted" }, bearer("secret-one"));
    expect(s.status).toBe(201);
    const refused: Array<[string, string, unknown?]> = [
      ["GET", "/v1/sessions?access_token=secret-one"],
      ["POST", "/v1/sessions?access_token=secret-one", { agent: "scripted" }],
      ["GET", `/v1/sessions/${s.body.id}?access_token=secret-one`],
      ["GET", `/v1/sessions/${s.body.id}/files?path=&access_token=secret-one`],
      ["POST", `/v1/sessions/${s.body.id}/prompt?access_token=secret-one`, { text: "hi" }],
      ["DELETE", `/v1/sessions/${s.body.id}?access_token=secret-one`],
      ["POST", `/v1/sessions/${s.body.id}/events?access_token=secret-one`, {}],
      ["GET", "/v1/agents?access_token=secret-one"],
    ];
    for (const [method, path, body] of refused) {
      const res = await keyed.api(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.message).toMatch(/access_token= is accepted only on GET .*\/events/);
    }
    // Even beside a valid header: the URL carries a key, and that is what is refused.
    expect((await keyed.api("GET", "/v1/sessions?access_token=secret-one", undefined, bearer("secret-one"))).status).toBe(401);
    const view = await keyed.api("GET", `/v1/sessions/${s.body.id}`, undefined, bearer("secret-one"));
    expect(view.body.queuedTurns + view.body.lastSeq).toBeGreaterThanOrEqual(0);
    expect((await keyed.api("GET", "/v1/sessions", undefined, bearer("secret-one"))).body.sessions).toHaveLength(1);

    const page = await keyed.api("GET", `/v1/sessions/${s.body.id}/events?access_token=secret-one`);
    expect(page.status).toBe(200);
    expect(Array.isArray(page.body.events)).toBe(true);
    const sse = await fetch(`${keyed.url}/v1/sessions/${s.body.id}/events?access_token=secret-one`, { headers: { accept: "text/event-stream" } });
    expect(sse.status).toBe(200);
    await sse.body?.cancel();
    expect((await keyed.api("GET", `/v1/sessions/${s.body.id}/events?access_token=wrong`)).status).toBe(401);
    await keyed.api("DELETE", `/v1/sessions/${s.body.id}`, undefined, bearer("secret-one"));
    for (const secret of ["secret-one", "secret-two", "secret-acme"]) expect(keyed.log()).not.toContain(secret);
  });

  it("gives a key made without --tenant a tenant of its own; --tenant and tenant:key entries share one", async () => {
    const x = cli(keyed.dataDir, "keys", "create", "--name", "x");
    const y = cli(keyed.dataDir, "keys", "create", "--name", "y");
    expect(x.status).toBe(0);
    expect(x.out).toMatch(/tenant (tnt_[0-9a-f]+) is its own/);
    const tenantX = x.out.match(/tenant (tnt_[0-9a-f]+)/)![1];
    expect(y.out).not.toContain(tenantX);
    const [kx, ky] = [keyOf(x.out), keyOf(y.out)];
    const s = await keyed.api("POST", "/v1/sessions", { agent: "scripted" }, bearer(kx));
    expect(s.status).toBe(201);
    // Key Y neither sees, steers nor deletes X's session; nor do the env keys of other tenants.
    for (const key of [ky, "secret-one", "secret-acme"]) {
      expect((await keyed.api("GET", `/v1/sessions/${s.body.id}`, undefined, bearer(key))).status).toBe(404);
      expect((await keyed.api("POST", `/v1/sessions/${s.body.id}/prompt`, { text: "hi" }, bearer(key))).status).toBe(404);
      expect((await keyed.api("DELETE", `/v1/sessions/${s.body.id}`, undefined, bearer(key))).status).toBe(404);
      expect((await keyed.api("GET", "/v1/sessions", undefined, bearer(key))).body.sessions.map((v: any) => v.id)).not.toContain(s.body.id);
    }
    expect((await keyed.api("GET", `/v1/sessions/${s.body.id}`, undefined, bearer(kx))).body.status).not.toBe("stopped");
    // A second key of X's tenant sees it.
    const x2 = cli(keyed.dataDir, "keys", "create", "--tenant", tenantX);
    expect(x2.out).toMatch(new RegExp(`shares tenant ${tenantX}`));
    expect((await keyed.api("GET", `/v1/sessions/${s.body.id}`, undefined, bearer(keyOf(x2.out)))).status).toBe(200);
    await keyed.api("DELETE", `/v1/sessions/${s.body.id}`, undefined, bearer(kx));

    // `acme:secret-acme` in AIRLOCK_API_KEYS and a key made with --tenant acme are one tenant.
    const acme = keyOf(cli(keyed.dataDir, "keys", "create", "--tenant", "acme", "--name", "ci").out);
    const a = await keyed.api("POST", "/v1/sessions", { agent: "scripted" }, bearer(acme));
    expect((await keyed.api("GET", `/v1/sessions/${a.body.id}`, undefined, bearer("secret-acme"))).status).toBe(200);
    expect((await keyed.api("GET", `/v1/sessions/${a.body.id}`, undefined, bearer("secret-one"))).status).toBe(404);
    await keyed.api("DELETE", `/v1/sessions/${a.body.id}`, undefined, bearer(acme));

    expect(cli(keyed.dataDir, "keys", "create", "--tenant", "no good").status).toBe(2);
    expect(cli(keyed.dataDir, "keys", "list").out).not.toMatch(/\tno good\t/);
  });

  it("keeps plain AIRLOCK_API_KEYS entries in tenant default, as before, and warns that they share it", async () => {
    const s = await keyed.api("POST", "/v1/sessions", { agent: "scripted" }, bearer("secret-one"));
    expect((await keyed.api("GET", `/v1/sessions/${s.body.id}`, undefined, bearer("secret-two"))).status).toBe(200);
    await keyed.api("DELETE", `/v1/sessions/${s.body.id}`, undefined, bearer("secret-two"));
    expect(keyed.log()).toMatch(/2 keys of AIRLOCK_API_KEYS are plain keys: they share the tenant/);
  });
});

describe("the first API key", () => {
  it("says it turns loopback access off, and does; sessions made over loopback stay reachable with a key of tenant default", async () => {
    const open = await startServer();
    try {
      const s = await open.api("POST", "/v1/sessions", { agent: "scripted" });
      expect(s.status).toBe(201);
      const first = cli(open.dataDir, "keys", "create", "--name", "first");
      expect(first.out).toMatch(/first API key, so loopback access is now off/);
      const deadline = Date.now() + 10_000;
      let status = 200;
      while ((status = (await open.api("GET", "/v1/sessions")).status) === 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(status).toBe(401);
      // The key's own tenant does not hold the loopback session; tenant default does.
      expect((await open.api("GET", `/v1/sessions/${s.body.id}`, undefined, bearer(keyOf(first.out)))).status).toBe(404);
      const second = cli(open.dataDir, "keys", "create", "--tenant", "default");
      expect(second.out).not.toMatch(/loopback access is now off/);
      const old = bearer(keyOf(second.out));
      expect((await open.api("GET", `/v1/sessions/${s.body.id}`, undefined, old)).status).toBe(200);
      await open.api("DELETE", `/v1/sessions/${s.body.id}`, undefined, old);
    } finally {
      await open.stop();
      removeDir(open.dataDir);
    }
  });
});
