/**
 * The gateway's Anthropic API in front of the test kit's scripted server: tokens, the real key, streaming
 * without buffering, usage and cost (also for streams cut short), budgets and upstream errors.
 */
import { type ServerType, serve } from "@hono/node-server";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { type GatewaySessions, anthropicGateway } from "./anthropic.ts";
import { costUsd, priceTable } from "./pricing.ts";
import { GatewayTokens } from "./tokens.ts";

const realKey = "sk-ant-real";
const tokens = new GatewayTokens(Buffer.alloc(32, 7));
const alive = "ses_0000000000000a0000000a";
const other = "ses_0000000000000b0000000b";
const ended = "ses_0000000000000c0000000c";

let llm: FakeAnthropic;
let server: ServerType;
let url: string;
const state = {
  budget: null as number | null,
  cost: 0,
  usage: [] as Array<{ session: string; inputTokens: number; outputTokens: number; costUsd: number; model?: string }>,
  errors: [] as Array<{ session: string; message: string; code: string }>,
};
const sessions: GatewaySessions = {
  async gatewaySession(id) {
    return id === ended ? null : { budgetUsd: state.budget, costUsd: state.cost };
  },
  async recordUsage(session, usage) {
    state.usage.push({ session, ...usage });
  },
  async reportError(session, message, code) {
    state.errors.push({ session, message, code });
  },
};

beforeAll(async () => {
  llm = await startFakeAnthropic({ apiKey: realKey });
  const app = anthropicGateway({ tokens, sessions, upstreamUrl: llm.url, apiKey: realKey, prices: priceTable({}) });
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await llm.close();
});
beforeEach(() => {
  state.budget = null;
  state.cost = 0;
  state.usage.length = 0;
  state.errors.length = 0;
  llm.respond(() => ({ text: "OK." }));
});

const body = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 100, messages: [{ role: "user", content: "hi" }], ...extra });
const call = (token: string, extra: Record<string, unknown> = {}, init: RequestInit = {}, query = "") =>
  fetch(`${url}/v1/messages${query}`, { method: "POST", headers: { "x-api-key": token, "content-type": "application/json", "anthropic-version": "2023-06-01" }, body: body(extra), ...init });

const until = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("gateway tokens and the real key", () => {
  it("forwards with the real key, never the session's token, and accepts Bearer and ?beta=true", async () => {
    const res = await fetch(`${url}/v1/messages?beta=true`, { method: "POST", headers: { authorization: `Bearer ${tokens.issue(alive)}`, "content-type": "application/json", "anthropic-beta": "x-1" }, body: body() });
    expect(res.status).toBe(200);
    const seen = llm.requests.at(-1)!;
    expect(seen.path).toBe("/v1/messages?beta=true");
    expect(seen.headers["x-api-key"]).toBe(realKey);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers["anthropic-beta"]).toBe("x-1");
    expect(JSON.stringify(seen.headers)).not.toContain("gw_");
  });

  it("refuses made-up tokens, a token whose session part was swapped, and tokens of ended sessions", async () => {
    const swapped = tokens.issue(alive).replace(alive, other);
    for (const token of ["gw_nonsense", swapped, tokens.issue(ended), realKey]) {
      const before = llm.requests.length;
      const res = await call(token);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
      expect(llm.requests.length).toBe(before);
    }
    expect(tokens.verify(tokens.issue(other))).toBe(other);
    expect(new GatewayTokens(Buffer.alloc(32, 8)).verify(tokens.issue(alive))).toBeNull();
  });

  it("answers Claude Code's HEAD probe with 404", async () => {
    expect((await fetch(url, { method: "HEAD" })).status).toBe(404);
  });
});

describe("streaming and metering", () => {
  it("passes the stream through as it comes and counts input (cache included), output and cost once", async () => {
    llm.respond(() => ({ text: "abcdefghij", pieces: 5, delayMs: 80, usage: { input: 1000, output: 200, cacheRead: 500 } }));
    const started = Date.now();
    const res = await call(tokens.issue(alive), { stream: true });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let firstDeltaAt = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (!firstDeltaAt && text.includes("text_delta")) firstDeltaAt = Date.now() - started;
    }
    const total = Date.now() - started;
    // The whole stream takes 5 × 80 ms; the first word must arrive long before the last.
    expect(total).toBeGreaterThanOrEqual(350);
    expect(firstDeltaAt).toBeLessThan(total - 200);
    expect(text).toContain("message_stop");
    await until(() => state.usage.length === 1);
    expect(state.usage[0]).toMatchObject({ session: alive, inputTokens: 1500, outputTokens: 200, model: "claude-sonnet-4-5" });
    // Cache reads cost a tenth of fresh input.
    expect(state.usage[0].costUsd).toBeCloseTo((1000 * 3 + 500 * 0.3 + 200 * 15) / 1e6, 10);
  });

  it("counts the tokens of a stream the agent cut short (a cancelled turn)", async () => {
    llm.respond(() => ({ text: "x".repeat(100), pieces: 50, delayMs: 40, usage: { input: 700, output: 300 } }));
    const abort = new AbortController();
    const res = await call(tokens.issue(alive), { stream: true }, { signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    abort.abort();
    await until(() => state.usage.length === 1);
    expect(state.usage[0]).toMatchObject({ inputTokens: 700 });
  });

  it("counts a non-streaming answer", async () => {
    llm.respond(() => ({ text: "plain", usage: { input: 10, output: 20 } }));
    const res = await call(tokens.issue(alive));
    expect((await res.json()).content[0].text).toBe("plain");
    expect(state.usage).toMatchObject([{ inputTokens: 10, outputTokens: 20 }]);
  });
});

describe("budgets and upstream errors", () => {
  it("refuses calls once the budget is spent, with an Anthropic-shaped error the session is told about", async () => {
    state.budget = 1;
    state.cost = 1.25;
    const before = llm.requests.length;
    const res = await call(tokens.issue(alive), { stream: true });
    expect(res.status).toBe(400);
    const error = await res.json();
    expect(error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(error.error.message).toMatch(/budget of \$1 is spent.*PATCH \/v1\/sessions/);
    expect(llm.requests.length).toBe(before);
    expect(state.errors).toMatchObject([{ session: alive, code: "budget_exceeded" }]);
    state.budget = 2;
    expect((await call(tokens.issue(alive))).status).toBe(200);
  });

  it("passes an upstream error on with its status, body and retry headers, and tells the session", async () => {
    llm.reply({ error: { status: 429, type: "rate_limit_error", message: "slow down", retryAfterSec: 3, shouldRetry: false } });
    const res = await call(tokens.issue(alive), { stream: true });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({ error: { type: "rate_limit_error", message: "slow down" } });
    expect(state.errors).toMatchObject([{ session: alive, code: "upstream_error", message: "the LLM upstream answered 429: slow down" }]);
  });

  it("answers 502 when the upstream cannot be reached", async () => {
    const app = anthropicGateway({ tokens, sessions, upstreamUrl: "http://127.0.0.1:9", apiKey: realKey, prices: priceTable({}) });
    const res = await app.request("/v1/messages", { method: "POST", headers: { "x-api-key": tokens.issue(alive) }, body: body() });
    expect(res.status).toBe(502);
    expect(state.errors[0].code).toBe("upstream_unreachable");
  });
});

describe("request bodies", () => {
  /** A raw POST (fetch would refuse a content-length that does not match its body): chunked unless declared. */
  const post = (parts: Buffer[], declaredLength?: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers = { "x-api-key": tokens.issue(alive), "content-type": "application/json", ...(declaredLength ? { "content-length": declaredLength } : {}) };
      const req = request(`${url}/v1/messages`, { method: "POST", headers }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (c) => (body += c)).once("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.once("error", reject);
      for (const part of parts) req.write(part);
      if (!declaredLength) req.end();
    });

  it("passes a large body sent in chunks on whole", async () => {
    const text = "y".repeat(3 * 1024 * 1024);
    const json = Buffer.from(body({ messages: [{ role: "user", content: text }] }));
    const parts = Array.from({ length: 48 }, (_, i) => json.subarray(Math.floor((i * json.length) / 48), Math.floor(((i + 1) * json.length) / 48)));
    expect((await post(parts)).status).toBe(200);
    expect(llm.requests.at(-1)!.body.messages[0].content).toBe(text);
  });

  it("refuses a body over 32 MB with 413, declared or sent in chunks, and forwards nothing", async () => {
    const before = llm.requests.length;
    const declared = await post([Buffer.from("{")], 40 * 1024 * 1024);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ type: "error", error: { type: "request_too_large" } });
    const mb = Buffer.alloc(1024 * 1024, "z");
    const sent = await post(Array.from({ length: 33 }, () => mb));
    expect(sent.status).toBe(413);
    expect(JSON.parse(sent.body).error.message).toMatch(/limited to 33554432 bytes/);
    expect(llm.requests.length).toBe(before);
    expect((await call(tokens.issue(alive))).status).toBe(200);
  });
});

describe("prices", () => {
  it("uses the longest matching model prefix, can be overridden, and refuses a malformed table", () => {
    const table = priceTable({ AIRLOCK_PRICES: JSON.stringify({ "claude-sonnet-4-5": { input: 1, output: 2 } }) });
    const M = 1_000_000;
    expect(costUsd(table, "claude-sonnet-4-5-20250929", { input: M, output: M })).toBe(3);
    expect(costUsd(table, "claude-sonnet-4-20250514", { input: M, output: 0 })).toBe(3);
    expect(costUsd(table, "claude-opus-4-1-20250805", { input: 0, output: M })).toBe(75);
    expect(costUsd(table, "claude-opus-4-5-20251101", { input: 0, output: M })).toBe(25);
    expect(costUsd(table, "some-other-model", { input: M, output: 0 })).toBe(3);
    expect(costUsd(table, "claude-haiku-4-5", { input: 0, output: 0, cacheRead: M, cacheWrite: M })).toBeCloseTo(0.1 + 1.25, 10);
    expect(() => priceTable({ AIRLOCK_PRICES: "{nope" })).toThrow(/AIRLOCK_PRICES/);
    expect(() => priceTable({ AIRLOCK_PRICES: '{"x": {"input": "3"}}' })).toThrow(/AIRLOCK_PRICES/);
  });
});
