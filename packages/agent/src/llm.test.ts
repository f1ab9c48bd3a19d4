import { APIConnectionError, APIError } from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { classify } from "./llm.ts";

const api = (status: number | undefined, type: string, headers: Record<string, string> = {}) =>
  APIError.generate(status as number, { type: "error", error: { type, message: `${type} happened` } }, undefined, new Headers(headers));

describe("LLM errors", () => {
  it("retries 429, 5xx, overloads and lost connections; honours retry-after and x-should-retry", () => {
    expect(classify(api(429, "rate_limit_error", { "retry-after": "2" }))).toMatchObject({ retryable: true, status: 429, retryAfterMs: 2000 });
    expect(classify(api(529, "overloaded_error"))).toMatchObject({ retryable: true });
    expect(classify(api(500, "api_error", { "x-should-retry": "false" }))).toMatchObject({ retryable: false });
    expect(classify(api(429, "rate_limit_error", { "retry-after-ms": "150" })).retryAfterMs).toBe(150);
    expect(classify(new APIConnectionError({ message: "ECONNREFUSED" }), "http://gw").message).toContain("could not reach the LLM API at http://gw");
    expect(classify(new APIError(undefined, { type: "error", error: { type: "overloaded_error", message: "busy" } }, undefined, new Headers()))).toMatchObject({ retryable: true });
  });

  it("surfaces other 4xx with the API's own words", () => {
    const e = classify(api(400, "invalid_request_error"));
    expect(e.retryable).toBe(false);
    expect(e.message).toBe("the LLM API refused the request (400 invalid_request_error): invalid_request_error happened");
    expect(classify(api(401, "authentication_error")).retryable).toBe(false);
  });
});
