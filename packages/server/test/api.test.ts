/**
 * The HTTP edge: bad input gets the right 4xx and changes nothing; API keys; healthz and agents.
 */
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
  it("answers healthz and lists agents with availability", async () => {
    const health = await server.api("GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, store: "sqlite", providers: ["local"] });
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

describe("API keys", () => {
  let keyed: TestServer;
  beforeAll(async () => {
    keyed = await startServer({ AIRLOCK_API_KEYS: "secret-one,secret-two" });
  });
  afterAll(async () => {
    await keyed?.stop();
    if (keyed) removeDir(keyed.dataDir);
  });

  it("requires a valid bearer key (or ?access_token=) once keys are configured", async () => {
    expect((await keyed.api("GET", "/v1/sessions")).status).toBe(401);
    const bad = await keyed.api("GET", "/v1/sessions", undefined, { authorization: "Bearer wrong" });
    expect(bad.status).toBe(401);
    expect(bad.body.error.message).toMatch(/invalid API key/);
    expect((await keyed.api("GET", "/v1/sessions", undefined, { authorization: "Bearer secret-two" })).status).toBe(200);
    expect((await keyed.api("GET", "/v1/sessions?access_token=secret-one")).status).toBe(200);
    const create = await keyed.api("POST", "/v1/sessions", { agent: "scripted" }, { authorization: "Bearer nope" });
    expect(create.status).toBe(401);
    expect((await keyed.api("GET", "/v1/sessions", undefined, { authorization: "Bearer secret-one" })).body.sessions).toEqual([]);
    expect((await keyed.api("GET", "/healthz")).status).toBe(200);
  });

  it("accepts keys made with `airlock keys create`, scoped to their tenant", async () => {
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync(process.execPath, ["--import", "tsx", "packages/server/src/cli.ts", "keys", "create", "--tenant", "acme", "--name", "ci"], {
      cwd: new URL("../../..", import.meta.url).pathname,
      env: { ...process.env, AIRLOCK_DATA_DIR: keyed.dataDir },
    }).toString();
    const key = out.match(/key: (\S+)/)![1];
    const acme = { authorization: `Bearer ${key}` };
    const s = await keyed.api("POST", "/v1/sessions", { agent: "scripted" }, acme);
    expect(s.status).toBe(201);
    // another tenant does not see it
    expect((await keyed.api("GET", `/v1/sessions/${s.body.id}`, undefined, { authorization: "Bearer secret-one" })).status).toBe(404);
    expect((await keyed.api("GET", `/v1/sessions/${s.body.id}`, undefined, acme)).status).toBe(200);
    await keyed.api("DELETE", `/v1/sessions/${s.body.id}`, undefined, acme);
  });
});
