/**
 * Secrets through the HTTP API with real servers, sandboxes and agents: write-only values, tenant isolation,
 * bad input, env references resolved at each agent start, masking of printed values, nothing in clear in the
 * data folder or the log, and tenants' own LLM credentials used by the gateway (the scripted Anthropic server
 * sees them; the sandbox never does).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { type FakeAnthropic, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { SseReader, type TestServer, agentEnvironment, agentProcesses, filesHolding, hasStatus, removeDir, startServer, textOf, turnEnded } from "./harness.ts";

const tenantA = { authorization: "Bearer key-of-tenant-a" };
const tenantB = { authorization: "Bearer key-of-tenant-b" };
const apiKeys = "ta:key-of-tenant-a,tb:key-of-tenant-b";
const unique = (label: string) => `${label}-${randomBytes(12).toString("hex")}`;

let llm: FakeAnthropic;
let server: TestServer;

beforeAll(async () => {
  llm = await startFakeAnthropic();
  // No server key: the upstream is the scripted server, so only tenants' own keys reach it.
  server = await startServer({ AIRLOCK_API_KEYS: apiKeys, ANTHROPIC_BASE_URL: llm.url, AIRLOCK_LOG_LEVEL: "debug" });
});
afterAll(async () => {
  await server?.stop();
  await llm?.close();
  if (server) removeDir(server.dataDir);
});

async function newSession(headers: Record<string, string>, body: Record<string, unknown>) {
  const res = await server.api("POST", "/v1/sessions", body, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`, undefined, headers);
  await sse.waitFor(hasStatus("ready"), 60_000, "ready");
  return { id: res.body.id as string, view: res.body, sse };
}

async function runTurn(headers: Record<string, string>, id: string, sse: SseReader, text: string): Promise<AirlockEvent[]> {
  const res = await server.api("POST", `/v1/sessions/${id}/prompt`, { text }, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await sse.waitFor(turnEnded(res.body.turnId), 60_000, "turn end");
  return sse.events.filter((e) => e.turnId === res.body.turnId || e.type === "terminal.output");
}

describe("secrets API", () => {
  it("stores values write-only: 201 then 200 on replace, listed by name and dates, deleted with 204", async () => {
    const value = unique("write-only");
    const made = await server.api("PUT", "/v1/secrets/API_TOKEN", { value }, tenantA);
    expect(made.status).toBe(201);
    expect(made.body).toEqual({ name: "API_TOKEN", createdAt: expect.any(String), updatedAt: expect.any(String) });
    const replaced = await server.api("PUT", "/v1/secrets/API_TOKEN", { value: unique("second") }, tenantA);
    expect(replaced.status).toBe(200);
    expect(replaced.body.createdAt).toBe(made.body.createdAt);
    const list = await server.api("GET", "/v1/secrets", undefined, tenantA);
    expect(list.status).toBe(200);
    expect(list.body.secrets).toContainEqual({ name: "API_TOKEN", createdAt: made.body.createdAt, updatedAt: replaced.body.updatedAt });
    expect(JSON.stringify(list.body)).not.toContain("write-only");
    expect((await server.api("DELETE", "/v1/secrets/API_TOKEN", undefined, tenantA)).status).toBe(204);
    expect((await server.api("DELETE", "/v1/secrets/API_TOKEN", undefined, tenantA)).status).toBe(404);
  });

  it("keeps tenants apart: another tenant neither lists, deletes nor references a secret", async () => {
    expect((await server.api("PUT", "/v1/secrets/ONLY_A", { value: unique("a") }, tenantA)).status).toBe(201);
    expect((await server.api("GET", "/v1/secrets", undefined, tenantB)).body.secrets.map((s: any) => s.name)).not.toContain("ONLY_A");
    expect((await server.api("DELETE", "/v1/secrets/ONLY_A", undefined, tenantB)).status).toBe(404);
    const refused = await server.api("POST", "/v1/sessions", { agent: "scripted", env: { X: { secret: "ONLY_A" } } }, tenantB);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain("env.X");
    expect((await server.api("GET", "/v1/secrets", undefined, tenantA)).body.secrets.map((s: any) => s.name)).toContain("ONLY_A");
  });

  it("answers bad input with a 400 naming the field, and changes nothing", async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ["PUT", "/v1/secrets/1BAD", { value: "x" }, "name"],
      ["PUT", "/v1/secrets/has-dash", { value: "x" }, "name"],
      ["PUT", `/v1/secrets/${"N".repeat(129)}`, { value: "x" }, "name"],
      ["PUT", "/v1/secrets/GOOD", {}, "value"],
      ["PUT", "/v1/secrets/GOOD", { value: "" }, "value"],
      ["PUT", "/v1/secrets/GOOD", { value: 42 }, "value"],
      ["PUT", "/v1/secrets/GOOD", { value: "a\u0000b" }, "value"],
      ["PUT", "/v1/secrets/GOOD", { value: "x".repeat(64 * 1024 + 1) }, "value"],
      ["PUT", "/v1/secrets/GOOD", { value: "x", extra: 1 }, "extra"],
      ["DELETE", "/v1/secrets/1BAD", undefined, "name"],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await server.api(method, path, body, tenantA);
      expect(res.status, `${method} ${path.slice(0, 40)} ${JSON.stringify(body)?.slice(0, 40)}`).toBe(400);
      expect(res.body.error.message).toContain(field);
    }
    expect((await server.api("GET", "/v1/secrets", undefined, tenantA)).body.secrets.map((s: any) => s.name)).not.toContain("GOOD");

    const before = (await server.api("GET", "/v1/sessions", undefined, tenantA)).body.sessions.length;
    for (const env of [{ FOO: { secret: "NO_SUCH_SECRET" } }, { FOO: { secret: "bad name" } }, { FOO: { secret: "OK", more: 1 } }, { FOO: 42 }]) {
      const res = await server.api("POST", "/v1/sessions", { agent: "scripted", env }, tenantA);
      expect(res.status, JSON.stringify(env)).toBe(400);
      expect(res.body.error.message).toContain("env.FOO");
    }
    expect((await server.api("GET", "/v1/sessions", undefined, tenantA)).body.sessions.length).toBe(before);
  });
});

describe("secrets in sessions", () => {
  it("keeps env values and secrets out of the data folder, the log and the session view; references resolve at each agent start", async () => {
    const secret = unique("deploy-secret");
    const plain = unique("plain-env");
    expect((await server.api("PUT", "/v1/secrets/DEPLOY_TOKEN", { value: secret }, tenantA)).status).toBe(201);
    const { id, view, sse } = await newSession(tenantA, {
      agent: "scripted",
      idleTimeoutSec: 2,
      env: { DEPLOY: { secret: "DEPLOY_TOKEN" }, PLAIN: plain, SHORT: "1" },
    });
    expect(view.env).toEqual({ DEPLOY: { secret: "DEPLOY_TOKEN" }, PLAIN: "***", SHORT: "***" });
    expect((await server.api("GET", `/v1/sessions/${id}`, undefined, tenantA)).body.env).toEqual(view.env);

    // The agent has the values (checked without printing them) ...
    const hash = (v: string) => `$(printf %s "$${v}" | sha256sum | cut -c1-16)`;
    const digest = async (v: string) => (await import("node:crypto")).createHash("sha256").update(v).digest("hex").slice(0, 16);
    const events = await runTurn(tenantA, id, sse, `run [ "${hash("DEPLOY")}" = "${await digest(secret)}" ] && [ "${hash("PLAIN")}" = "${await digest(plain)}" ] && echo env-ok`);
    expect(JSON.stringify(events)).toContain("env-ok");
    // ... and neither the data folder (database, WAL, journals, relay files) nor the log holds them.
    for (const value of [secret, plain]) {
      expect(filesHolding(server.dataDir, value)).toEqual([]);
      expect(server.log()).not.toContain(value);
    }

    // A replaced secret applies from the agent's next start (here after an idle stop).
    const rotated = unique("rotated-secret");
    expect((await server.api("PUT", "/v1/secrets/DEPLOY_TOKEN", { value: rotated }, tenantA)).status).toBe(200);
    await sse.waitFor(hasStatus("stopped"), 30_000, "idle stop");
    const after = await runTurn(tenantA, id, sse, `run [ "${hash("DEPLOY")}" = "${await digest(rotated)}" ] && echo rotated-ok || echo stale`);
    expect(JSON.stringify(after)).toContain("rotated-ok");
    expect(filesHolding(server.dataDir, rotated)).toEqual([]);
    sse.close();
  });

  it("masks values an agent prints in the stored events, across chunks too; deleted sandbox, nothing in clear", async () => {
    const secret = unique("printed-secret");
    const plain = unique("printed-plain");
    expect((await server.api("PUT", "/v1/secrets/PRINTED", { value: secret }, tenantA)).status).toBe(201);
    const { id, sse } = await newSession(tenantA, { agent: "scripted", env: { TOKEN: { secret: "PRINTED" }, OTHER: plain } });
    // Printed whole, and printed in two writes with a pause between them (two chunks of output).
    const events = await runTurn(tenantA, id, sse, 'run echo "token=$TOKEN other=$OTHER"; printf %s "$TOKEN" | head -c 10; sleep 0.3; printf %s "$TOKEN" | tail -c +11; echo');
    const stored = JSON.stringify(events);
    const output = events.filter((e) => e.type === "terminal.output" && typeof (e.data as any).data === "string");
    expect(output.length, "the value was written in two parts").toBeGreaterThan(1);
    expect(stored).toContain("token=*** other=***");
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(plain);
    // Neither part of the value written in two: the first waited for the second (held back, not stored yet).
    expect(stored).not.toContain(secret.slice(0, 10));
    expect(stored).not.toContain(secret.slice(10));
    const page = await server.api("GET", `/v1/sessions/${id}/events?after=0&limit=1000`, undefined, tenantA);
    expect(JSON.stringify(page.body)).not.toContain(secret);
    sse.close();

    // The sandbox (and its relay's own journal) goes with DELETE; what the server stored never held the values.
    expect((await server.api("DELETE", `/v1/sessions/${id}`, undefined, tenantA)).status).toBe(202);
    for (const value of [secret, plain]) {
      expect(filesHolding(server.dataDir, value)).toEqual([]);
      expect(server.log()).not.toContain(value);
    }
  });
});

describe("tenant LLM credentials", () => {
  it("the gateway calls the upstream with the tenant's API key or subscription token; the sandbox never sees them", async () => {
    const apiKey = unique("sk-ant-tenant-a");
    const oauth = unique("sk-ant-oat01-tenant-b");
    expect((await server.api("PUT", "/v1/secrets/ANTHROPIC_API_KEY", { value: apiKey }, tenantA)).status).toBe(201);
    expect((await server.api("PUT", "/v1/secrets/CLAUDE_CODE_OAUTH_TOKEN", { value: oauth }, tenantB)).status).toBe(201);
    const agentsA = (await server.api("GET", "/v1/agents", undefined, tenantA)).body.agents;
    expect(agentsA.find((a: any) => a.name === "airlock")).toMatchObject({ available: true, credentials: "tenant" });
    llm.respond(() => ({ text: "Hello from the scripted model." }));

    for (const [headers, check] of [
      [tenantA, (h: Record<string, any>) => {
        expect(h["x-api-key"]).toBe(apiKey);
        expect(h.authorization).toBeUndefined();
      }],
      [tenantB, (h: Record<string, any>) => {
        expect(h.authorization).toBe(`Bearer ${oauth}`);
        expect(String(h["anthropic-beta"]).split(",")).toContain("oauth-2025-04-20");
        expect(h["x-api-key"]).toBeUndefined();
      }],
    ] as const) {
      const from = llm.requests.length;
      const { id, sse } = await newSession(headers, { agent: "airlock" });
      const events = await runTurn(headers, id, sse, "say hello");
      expect(textOf(events)).toContain("Hello from the scripted model.");
      const calls = llm.requests.slice(from).filter((r) => r.method === "POST");
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) check(call.headers);
      // The agent holds its session's gateway token, not the tenant's credential.
      const pids = agentProcesses(server.dataDir, id, "airlock-agent");
      expect(pids.length).toBeGreaterThan(0);
      const environs = pids.map((pid) => readFileSync(`/proc/${pid}/environ`, "utf8"));
      for (const environ of environs) {
        expect(environ).not.toContain(apiKey);
        expect(environ).not.toContain(oauth);
      }
      expect(agentEnvironment(server.dataDir, id).ANTHROPIC_API_KEY).toMatch(/^gw_/);
      sse.close();
      await server.api("DELETE", `/v1/sessions/${id}`, undefined, headers);
    }
    expect(filesHolding(server.dataDir, apiKey)).toEqual([]);
    expect(filesHolding(server.dataDir, oauth)).toEqual([]);
    expect(server.log()).not.toContain(apiKey);
    expect(server.log()).not.toContain(oauth);
  });

  it("/v1/agents shows an agent available thanks to the tenant's own key, for that tenant only", async () => {
    const bare = await startServer({ AIRLOCK_API_KEYS: apiKeys });
    try {
      const airlockFor = async (h: Record<string, string>) => (await bare.api("GET", "/v1/agents", undefined, h)).body.agents.find((a: any) => a.name === "airlock");
      expect(await airlockFor(tenantA)).toMatchObject({ available: false, reason: "no LLM credentials" });
      expect((await airlockFor(tenantA)).fix).toContain("/v1/secrets/ANTHROPIC_API_KEY");
      expect((await bare.api("POST", "/v1/sessions", { agent: "airlock" }, tenantA)).status).toBe(400);
      expect((await bare.api("PUT", "/v1/secrets/CLAUDE_CODE_OAUTH_TOKEN", { value: unique("oat") }, tenantA)).status).toBe(201);
      expect(await airlockFor(tenantA)).toMatchObject({ available: true, credentials: "tenant" });
      expect(await airlockFor(tenantB)).toMatchObject({ available: false });
      const codex = (await bare.api("GET", "/v1/agents", undefined, tenantA)).body.agents.find((a: any) => a.name === "codex");
      if (codex) expect(codex.available).toBe(false);
    } finally {
      await bare.stop();
      removeDir(bare.dataDir);
    }
  });
});

describe("secrets on PostgreSQL", () => {
  it("keeps secrets and env values sealed in the database, scoped to the tenant", async () => {
    const pgServer = await startServer({ AIRLOCK_API_KEYS: apiKeys }, undefined, { store: "postgres" });
    const db = new pg.Client({ connectionString: pgServer.databaseUrl! });
    try {
      const secret = unique("pg-secret");
      const plain = unique("pg-plain");
      expect((await pgServer.api("PUT", "/v1/secrets/PG_TOKEN", { value: secret }, tenantA)).status).toBe(201);
      expect((await pgServer.api("GET", "/v1/secrets", undefined, tenantB)).body.secrets).toEqual([]);
      const created = await pgServer.api("POST", "/v1/sessions", { agent: "scripted", env: { TOKEN: { secret: "PG_TOKEN" }, PLAIN: plain } }, tenantA);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.env).toEqual({ TOKEN: { secret: "PG_TOKEN" }, PLAIN: "***" });
      const sse = new SseReader(`${pgServer.url}/v1/sessions/${created.body.id}/events`, undefined, tenantA);
      await sse.waitFor(hasStatus("ready"), 60_000, "ready");
      sse.close();

      await db.connect();
      const { rows } = await db.query(`
        SELECT (SELECT string_agg(value, ' ') FROM secrets) AS secrets,
               (SELECT string_agg(options::text, ' ') FROM sessions) AS options,
               (SELECT string_agg(data, ' ') FROM events) AS events`);
      const everything = JSON.stringify(rows[0]);
      expect(rows[0].secrets).toMatch(/^v1\./);
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(plain);
      expect(filesHolding(pgServer.dataDir, secret)).toEqual([]);
      expect(filesHolding(pgServer.dataDir, plain)).toEqual([]);
    } finally {
      await db.end().catch(() => {});
      await pgServer.stop();
      removeDir(pgServer.dataDir);
    }
  });
});
