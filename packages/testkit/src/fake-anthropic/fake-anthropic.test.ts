/**
 * The fake is checked with Anthropic's own SDK: if the SDK's stream parser and message accumulator accept what
 * it sends, agents built on that SDK (Claude Code among them) will too.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "./index.ts";

let llm: FakeAnthropic;
let client: Anthropic;
beforeAll(async () => {
  llm = await startFakeAnthropic({ apiKey: "sk-test" });
  client = new Anthropic({ baseURL: llm.url, apiKey: "sk-test", maxRetries: 0 });
});
afterAll(() => llm.close());

const ask = { model: "claude-test-1", max_tokens: 100, messages: [{ role: "user" as const, content: "hi" }] };

describe("fake Anthropic API", () => {
  it("streams thinking, text and a tool call that the SDK assembles into the scripted message", async () => {
    llm.reply({ thinking: "Let me think.", text: "Writing the file now.", toolUse: [{ name: "Write", input: { file_path: "a.txt", content: "x".repeat(50) } }], usage: { input: 321, output: 45 } });
    const events: string[] = [];
    const stream = client.messages.stream(ask);
    stream.on("streamEvent", (e) => events.push(e.type === "content_block_delta" ? `delta:${e.delta.type}` : e.type));
    const message = await stream.finalMessage();
    expect(message.model).toBe("claude-test-1");
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 321, output_tokens: 45 });
    expect(message.content).toMatchObject([
      { type: "thinking", thinking: "Let me think.", signature: "fake-signature" },
      { type: "text", text: "Writing the file now." },
      { type: "tool_use", name: "Write", input: { file_path: "a.txt", content: "x".repeat(50) } },
    ]);
    expect(events[0]).toBe("message_start");
    expect(events).toContain("delta:thinking_delta");
    expect(events).toContain("delta:signature_delta");
    expect(events).toContain("delta:input_json_delta");
    expect(events.filter((e) => e === "delta:text_delta").length).toBe(3);
    expect(events.slice(-2)).toEqual(["message_delta", "message_stop"]);
  });

  it("answers non-streaming requests, on the beta path too, and records headers and bodies", async () => {
    llm.reply({ text: "plain" }, { text: "beta" });
    const plain = await client.messages.create(ask);
    expect(plain.content).toEqual([{ type: "text", text: "plain" }]);
    // Claude Code's path: `?beta=true` with an `anthropic-beta` header.
    const beta = await fetch(`${llm.url}/v1/messages?beta=true`, { method: "POST", headers: { "x-api-key": "sk-test", "anthropic-beta": "some-beta-2025-01-01", "content-type": "application/json" }, body: JSON.stringify(ask) });
    expect((await beta.json()).content).toEqual([{ type: "text", text: "beta" }]);
    const [first, second] = llm.requests.slice(-2);
    expect(first.path).toBe("/v1/messages");
    expect(second.path).toBe("/v1/messages?beta=true");
    expect(second.headers["anthropic-beta"]).toBe("some-beta-2025-01-01");
    expect(first.headers["x-api-key"] ?? first.headers.authorization).toMatch(/^(Bearer )?sk-test$/);
    expect(first.body.messages).toEqual([{ role: "user", content: "hi" }]);
  });

  it("accepts the key as x-api-key or Bearer and refuses a wrong one like the real API", async () => {
    llm.reply({ text: "by header" });
    const byHeader = await fetch(`${llm.url}/v1/messages`, { method: "POST", headers: { "x-api-key": "sk-test" }, body: JSON.stringify(ask) });
    expect((await byHeader.json()).content).toEqual([{ type: "text", text: "by header" }]);
    const bearer = new Anthropic({ baseURL: llm.url, apiKey: null, authToken: "sk-test", maxRetries: 0 });
    llm.reply({ text: "by bearer" });
    expect((await bearer.messages.create(ask)).content).toEqual([{ type: "text", text: "by bearer" }]);
    expect(llm.requests.at(-1)!.headers.authorization).toBe("Bearer sk-test");
    const wrong = new Anthropic({ baseURL: llm.url, apiKey: "sk-wrong", maxRetries: 0 });
    await expect(wrong.messages.create(ask)).rejects.toMatchObject({ status: 401, error: { type: "error", error: { type: "authentication_error" } } });
  });

  it("answers scripted errors with status, Anthropic's error body and retry headers", async () => {
    llm.reply({ error: { status: 429, type: "rate_limit_error", message: "slow down", retryAfterSec: 7, shouldRetry: false } });
    const err = await client.messages.create(ask).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.error.error).toEqual({ type: "rate_limit_error", message: "slow down" });
    expect(err.headers.get("retry-after")).toBe("7");
    expect(err.requestID).toMatch(/^req_fake_/);

    llm.reply({ error: { status: 500, type: "api_error", message: "boom" } });
    await expect(client.messages.create(ask)).rejects.toBeInstanceOf(Anthropic.InternalServerError);
  });

  it("ends a stream with an error event where scripted", async () => {
    llm.reply({ text: "partial", streamError: { afterBlocks: 1, type: "overloaded_error", message: "Overloaded" } });
    const stream = client.messages.stream(ask);
    await expect(stream.finalMessage()).rejects.toThrow(/Overloaded/);
  });

  it("streams slowly when asked, and decides replies from the request", async () => {
    llm.respond((req) => ({ text: `you said ${req.body.messages[0].content}`, pieces: 5, delayMs: 40 }));
    const started = Date.now();
    const stamps: number[] = [];
    const stream = client.messages.stream({ ...ask, messages: [{ role: "user", content: "slowly" }] });
    stream.on("text", () => stamps.push(Date.now() - started));
    expect((await stream.finalText())).toBe("you said slowly");
    expect(stamps.length).toBe(5);
    expect(stamps[4] - stamps[0]).toBeGreaterThanOrEqual(4 * 30);
    const seen = await llm.waitForRequest((r) => JSON.stringify(r.body).includes("slowly"), 1000);
    expect(seen.body.stream).toBe(true);
    llm.respond(() => ({ text: "OK." }));
  });

  it("answers HEAD / with 404 like the real host", async () => {
    const res = await fetch(llm.url, { method: "HEAD" });
    expect(res.status).toBe(404);
  });
});
