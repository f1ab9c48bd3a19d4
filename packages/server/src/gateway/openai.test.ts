/**
 * The gateway's OpenAI API in front of the test kit's scripted OpenAI server: the base URL's `/v1`, the real
 * key as Bearer, usage of streamed and whole answers, OpenAI-shaped refusals.
 */
import { type ServerType, serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeOpenAI, startFakeOpenAI } from "@airlock/testkit/fake-openai";
import { openaiGateway } from "./openai.ts";
import { priceTable } from "./pricing.ts";
import type { GatewaySessions } from "./proxy.ts";
import { GatewayTokens } from "./tokens.ts";

const realKey = "sk-openai-real";
const tokens = new GatewayTokens(Buffer.alloc(32, 9));
const session = "ses_0000000000000e0000000e";
let llm: FakeOpenAI;
let server: ServerType;
let url: string;
const usage: unknown[] = [];
let budget: number | null = null;
const sessions: GatewaySessions = {
  gatewaySession: async () => ({ budgetUsd: budget, costUsd: 1 }),
  recordUsage: async (_id, u) => void usage.push(u),
  reportError: async () => {},
};

beforeAll(async () => {
  llm = await startFakeOpenAI({ apiKey: realKey });
  const app = openaiGateway({ tokens, sessions, upstreamUrl: llm.url, apiKey: realKey, prices: priceTable({}) });
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await llm.close();
});

const call = (body: Record<string, unknown>, token = tokens.issue(session)) =>
  fetch(`${url}/responses`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-5-mini", input: "hi", ...body }) });

describe("gateway, OpenAI API", () => {
  it("forwards /v1/responses to the upstream's base URL with the real key, and meters a streamed answer", async () => {
    usage.length = 0;
    llm.reply({ text: "streamed", usage: { input: 2000, output: 100, cached: 1000 } });
    const res = await call({ stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("response.output_text.delta");
    expect(text).toContain("response.completed");
    expect(llm.requests.at(-1)).toMatchObject({ path: "/v1/responses", headers: { authorization: `Bearer ${realKey}` } });
    await new Promise((r) => setTimeout(r, 50));
    expect(usage).toEqual([{ inputTokens: 2000, outputTokens: 100, model: "gpt-5-mini", costUsd: (1000 * 0.25 + 1000 * 0.025 + 100 * 2) / 1e6 }]);
  });

  it("meters a whole answer", async () => {
    usage.length = 0;
    llm.reply({ text: "whole", usage: { input: 10, output: 5 } });
    expect((await (await call({})).json()).output[0].content[0].text).toBe("whole");
    expect(usage).toMatchObject([{ inputTokens: 10, outputTokens: 5 }]);
  });

  it("refuses bad tokens and spent budgets in OpenAI's error shape, without calling the upstream", async () => {
    const before = llm.requests.length;
    const bad = await call({}, "gw_nope");
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: { type: "invalid_api_key" } });
    budget = 0.5;
    const spent = await call({});
    expect(spent.status).toBe(400);
    expect((await spent.json()).error.message).toMatch(/budget of \$0.5 is spent/);
    budget = null;
    expect(llm.requests.length).toBe(before);
  });
});
