import { describe, expect, it } from "vitest";
import type { EventRow } from "@airlock/protocol";
import { describeFailure, pauseAfterFailure, planBatch, retryDelay } from "./policy.ts";
import { signatureHeader, verifySignature } from "./signature.ts";

const row = (seq: number, type = "update"): EventRow => ({ seq, sessionId: "ses_1", at: 0, type: type as EventRow["type"], turnId: null, data: "{}" });

describe("retryDelay", () => {
  const s = { backoffMs: 1000, maxBackoffMs: 60_000 };
  it("doubles per attempt, with half of it random, and stays under the cap", () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, s, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => retryDelay(n, s, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelay(50, s, () => 1)).toBe(60_000);
    expect(retryDelay(10_000, s, () => 0.5)).toBe(45_000);
  });
});

describe("pauseAfterFailure", () => {
  it("pauses at the failure that makes maxAttempts in a row, naming the count, since when and the last error", () => {
    const s = { maxAttempts: 3, pauseAfterMs: 5000 };
    expect(pauseAfterFailure({ failures: 1, failingSince: 0 }, "HTTP 500", 5000, s)).toBeUndefined();
    // Enough failures, but all within a few seconds (many sessions at once): not yet.
    expect(pauseAfterFailure({ failures: 9, failingSince: 1000 }, "HTTP 500", 5000, s)).toBeUndefined();
    expect(pauseAfterFailure({ failures: 0, failingSince: null }, "HTTP 500", 5000, { maxAttempts: 1, pauseAfterMs: 0 })).toBeDefined();
    const pause = pauseAfterFailure({ failures: 2, failingSince: 0 }, "HTTP 500", 5000, s)!;
    expect(pause.at).toBe(5000);
    expect(pause.reason).toMatch(/^3 deliveries failed in a row since 1970-01-01T00:00:00\.000Z \(last: HTTP 500\)/);
  });
});

describe("planBatch", () => {
  it("takes up to batchSize events and covers only what it sends", () => {
    const rows = [1, 2, 3, 4, 5].map((n) => row(n));
    expect(planBatch(rows, null, 2)).toEqual({ events: rows.slice(0, 2), coveredTo: 2 });
    expect(planBatch(rows, null, 10)).toEqual({ events: rows, coveredTo: 5 });
  });
  it("with types, skips the others and covers them too, never past an event not sent", () => {
    const rows = [row(1, "session.status"), row(2), row(3, "turn.ended"), row(4), row(5, "session.status"), row(6)];
    expect(planBatch(rows, ["session.status", "turn.ended"], 2)).toEqual({ events: [rows[0], rows[2]], coveredTo: 3 });
    expect(planBatch(rows, ["session.status", "turn.ended"], 5)).toEqual({ events: [rows[0], rows[2], rows[4]], coveredTo: 6 });
    expect(planBatch([row(7), row(8)], ["turn.ended"], 5)).toEqual({ events: [], coveredTo: 8 });
  });
});

describe("describeFailure", () => {
  it("says the status and the start of the answer, or the network error", () => {
    expect(describeFailure(502, "bad\n gateway")).toBe("HTTP 502: bad gateway");
    expect(describeFailure(null, "", Object.assign(new Error("fetch failed"), { cause: { code: "ECONNREFUSED" } }))).toBe("request failed: ECONNREFUSED");
    expect(describeFailure(null, "", Object.assign(new Error("x"), { name: "TimeoutError" }))).toBe("no answer in time (timed out)");
  });
});

describe("signatures", () => {
  it("verify with the secret and body they were made with, within the tolerance", () => {
    const header = signatureHeader("whsec_a", '{"x":1}', 1_000_000);
    expect(verifySignature("whsec_a", '{"x":1}', header, 300, 1_000_100)).toBe(true);
    expect(verifySignature("whsec_a", '{"x":2}', header, 300, 1_000_100)).toBe(false);
    expect(verifySignature("whsec_b", '{"x":1}', header, 300, 1_000_100)).toBe(false);
    expect(verifySignature("whsec_a", '{"x":1}', header, 300, 1_000_301)).toBe(false);
    expect(verifySignature("whsec_a", '{"x":1}', header.replace("t=1000000", "t=1000001"), 300, 1_000_100)).toBe(false);
    expect(verifySignature("whsec_a", '{"x":1}', "garbage")).toBe(false);
    expect(verifySignature("whsec_a", '{"x":1}', undefined)).toBe(false);
  });
});
