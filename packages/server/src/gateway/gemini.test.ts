/**
 * The gateway's Gemini API in front of the test kit's scripted Gemini server: the session's token as header
 * or `?key=` (never passed upstream), the real key as `x-goog-api-key`, usage from the cumulative chunks.
 */
import { type ServerType, serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeGemini, startFakeGemini } from "@airlock/testkit/fake-gemini";
import { geminiGateway } from "./gemini.ts";
import { priceTable } from "./pricing.ts";
import type { GatewaySessions } from "./proxy.ts";
import { GatewayTokens } from "./tokens.ts";

const realKey = "AIza-real";
const tokens = new GatewayTokens(Buffer.alloc(32, 5));
const session = "ses_0000000000000f0000000f";
let llm: FakeGemini;
let server: ServerType;
let url: string;
const usage: unknown[] = [];
const sessions: GatewaySessions = {
  gatewaySession: async () => ({ budgetUsd: null, costUsd: 0 }),
  recordUsage: async (_id, u) => void usage.push(u),
  reportError: async () => {},
};

beforeAll(async () => {
  llm = await startFakeGemini({ apiKey: realKey });
  const app = geminiGateway({ tokens, sessions, upstreamUrl: llm.url, apiKey: realKey, prices: priceTable({}) });
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await llm.close();
});

const body = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });

describe("gateway, Gemini API", () => {
  it("takes the token as ?key=, never passes it upstream, and meters a streamed answer", async () => {
    usage.length = 0;
    llm.reply({ text: "streamed words", usage: { input: 500, output: 40, cached: 100 } });
    const res = await fetch(`${url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=${tokens.issue(session)}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"finishReason":"STOP"');
    const seen = llm.requests.at(-1)!;
    expect(seen.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    expect(seen.headers["x-goog-api-key"]).toBe(realKey);
    await new Promise((r) => setTimeout(r, 50));
    expect(usage).toEqual([{ inputTokens: 500, outputTokens: 40, model: "gemini-2.5-flash", costUsd: (400 * 0.3 + 100 * 0.03 + 40 * 2.5) / 1e6 }]);
  });

  it("takes the token as x-goog-api-key and refuses another in Google's error shape", async () => {
    llm.reply({ text: "whole" });
    const ok = await fetch(`${url}/v1beta/models/gemini-2.5-pro:generateContent`, { method: "POST", headers: { "x-goog-api-key": tokens.issue(session) }, body });
    expect((await ok.json()).candidates[0].content.parts[0].text).toBe("whole");
    const bad = await fetch(`${url}/v1beta/models/gemini-2.5-pro:generateContent`, { method: "POST", headers: { "x-goog-api-key": "gw_forged" }, body });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: { code: 401, status: "UNAUTHENTICATED" } });
  });
});
