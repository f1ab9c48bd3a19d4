import { describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { AirlockApiError, AirlockClient, SseParser, type SubscriptionStatus } from "./index.ts";

const event = (seq: number, text = `t${seq}`): AirlockEvent => ({
  seq,
  sessionId: "ses_1",
  at: "2026-01-01T00:00:00.000Z",
  type: "update",
  data: { sessionUpdate: "agent_message_chunk", content: { type: "text", text } },
});
const frame = (e: AirlockEvent) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

describe("SseParser", () => {
  it("reads frames split anywhere, with CRLF, CR, multi-line data, comments and retry", () => {
    const text = "retry: 2000\n\n: ping\n\nid: 7\r\nevent: update\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata:x\rid:8\r\r: trailing";
    // Every way of cutting the text in two gives the same frames as the whole.
    const whole = new SseParser().push(text);
    expect(whole).toEqual([
      { event: "message", data: "", retry: 2000 },
      { event: "message", data: "", comments: ["ping"] },
      { id: "7", event: "update", data: '{"a":\n1}' },
      { id: "8", event: "message", data: "x" },
    ]);
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      expect([...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))]).toEqual(whole);
    }
    // one character at a time
    const p = new SseParser();
    expect([...text].flatMap((c) => p.push(c))).toEqual(whole);
  });

  it("does not dispatch a frame before its blank line", () => {
    const p = new SseParser();
    expect(p.push("data: 1\n")).toEqual([]);
    expect(p.push("\n")).toEqual([{ event: "message", data: "1" }]);
    expect(p.push("field-without-colon\nevent\n\n")).toEqual([]);
  });
});

/** A fake server: each `connect` answer is a script of chunks (a string is sent, an Error breaks the stream). */
type Step = string | Error | { wait: number } | "hang";
interface Fake {
  fetch: typeof fetch;
  requests: Array<{ url: string; headers: Record<string, string> }>;
}

function fakeServer(streams: Step[][], opts: { log?: AirlockEvent[]; final?: boolean; sseStatus?: number } = {}): Fake {
  const requests: Fake["requests"] = [];
  let n = 0;
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    requests.push({ url, headers });
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    const log = opts.log ?? [];
    if (url.includes("/events?")) {
      const q = new URL(url, "http://x").searchParams;
      const after = Number(q.get("after"));
      const limit = Number(q.get("limit") ?? 100);
      const events = log.filter((e) => e.seq > after).slice(0, limit);
      return json({ events, nextAfter: events.at(-1)?.seq ?? after });
    }
    if (url.endsWith("/events")) {
      if (opts.sseStatus) return json({ error: { code: "not_found", message: "no session ses_1" } }, opts.sseStatus);
      const script = streams[Math.min(n++, streams.length - 1)];
      const signal = init?.signal;
      // Pull-based, so that a break comes after the chunks before it were read (erroring drops queued chunks).
      const steps = script[Symbol.iterator]();
      const enc = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          for (;;) {
            const { value: step, done } = steps.next();
            if (done) return controller.close();
            if (step === "hang") {
              await new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }));
              return controller.error(new DOMException("aborted", "AbortError"));
            }
            if (step instanceof Error) return controller.error(step);
            if (typeof step === "object") {
              await new Promise((r) => setTimeout(r, step.wait));
              continue;
            }
            return controller.enqueue(enc.encode(step));
          }
        },
      });
      return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
    }
    if (url.endsWith("/sessions/ses_1")) return json({ id: "ses_1", final: opts.final ?? true, lastSeq: log.at(-1)?.seq ?? 0 });
    return json({ error: { code: "not_found", message: "no route" } }, 404);
  }) as typeof fetch;
  return { fetch: fetchImpl, requests };
}

async function follow(fake: Fake, options: { after?: number; apiKey?: string; stallMs?: number } = {}) {
  const client = new AirlockClient({ baseUrl: "http://airlock.test/", apiKey: options.apiKey, fetch: fake.fetch });
  const seen: number[] = [];
  const statuses: SubscriptionStatus[] = [];
  const sub = client.sessions.subscribe("ses_1", {
    after: options.after,
    onEvent: (e) => seen.push(e.seq),
    onStatus: (s) => statuses.push(s),
    backoff: { initialMs: 5, maxMs: 20 },
    stallMs: options.stallMs,
  });
  return { sub, seen, statuses };
}

const log = (n: number) => Array.from({ length: n }, (_, i) => event(i + 1));

describe("sessions.subscribe", () => {
  it("delivers in order, drops duplicate frames, and ends when the log is final", async () => {
    const l = log(3);
    const fake = fakeServer([["retry: 2000\n\n", frame(l[0]), frame(l[1]), frame(l[1]), ": ping\n\n", frame(l[0]), frame(l[2])]], { log: l });
    const { sub, seen, statuses } = await follow(fake, { apiKey: "k1" });
    await sub.done;
    expect(seen).toEqual([1, 2, 3]);
    expect(statuses).toEqual(["connecting", "live", "ended"]);
    expect(sub.lastSeq).toBe(3);
    const sse = fake.requests.find((r) => r.url === "http://airlock.test/v1/sessions/ses_1/events")!;
    expect(sse.headers).toMatchObject({ accept: "text/event-stream", authorization: "Bearer k1", "last-event-id": "0" });
  });

  it("fills a gap from JSON pages before going on", async () => {
    const l = log(2500);
    // The stream jumps from 2 to 2500: 2,497 events must come from pages (three of them) in order.
    const fake = fakeServer([[frame(l[0]), frame(l[1]), frame(l[2499])]], { log: l });
    const { sub, seen } = await follow(fake);
    await sub.done;
    expect(seen).toEqual(l.map((e) => e.seq));
    const pages = fake.requests.filter((r) => r.url.includes("/events?"));
    expect(pages.map((r) => new URL(r.url).searchParams.get("after"))).toEqual(["2", "1002", "2002"]);
  });

  it("reconnects after a drop from the last delivered seq, without duplicates or gaps", async () => {
    const l = log(6);
    const fake = fakeServer(
      [
        [frame(l[0]), frame(l[1]), frame(l[2]).slice(0, 20), new TypeError("terminated")],
        [frame(l[2]), frame(l[3]), new TypeError("terminated")],
        // the third connection replays one the client already has, then goes on
        [frame(l[3]), frame(l[4]), frame(l[5])],
      ],
      { log: l },
    );
    const { sub, seen, statuses } = await follow(fake, { after: 0 });
    await sub.done;
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    const sse = fake.requests.filter((r) => r.url.endsWith("/events"));
    expect(sse.map((r) => r.headers["last-event-id"])).toEqual(["0", "2", "4"]);
    expect(statuses).toEqual(["connecting", "live", "reconnecting", "live", "reconnecting", "live", "ended"]);
  });

  it("takes a silent connection for dead and reconnects", async () => {
    const l = log(3);
    const fake = fakeServer([[frame(l[0]), "hang"], [frame(l[1]), frame(l[2])]], { log: l });
    const { sub, seen, statuses } = await follow(fake, { stallMs: 100 });
    await sub.done;
    expect(seen).toEqual([1, 2, 3]);
    expect(statuses).toContain("reconnecting");
  });

  it("resumes after a given seq and treats a stream that ends early as a drop", async () => {
    const l = log(5);
    const fake = fakeServer([[frame(l[3])], [frame(l[4])]], { log: l, final: false });
    const { sub, seen } = await follow(fake, { after: 3 });
    await new Promise((r) => setTimeout(r, 100));
    sub.close();
    await sub.done;
    expect(seen).toEqual([4, 5]);
    expect(fake.requests.filter((r) => r.url.endsWith("/events")).length).toBeGreaterThanOrEqual(3);
  });

  it("stops on an error another attempt cannot fix", async () => {
    const fake = fakeServer([[]], { sseStatus: 404 });
    const { sub, statuses } = await follow(fake);
    const err = await sub.done.then(
      () => null,
      (e) => e,
    );
    expect(AirlockApiError.is(err)).toBe(true);
    expect(err).toMatchObject({ status: 404, code: "not_found", message: "no session ses_1" });
    expect(statuses).toEqual(["connecting"]);
  });

  it("delivers nothing after close", async () => {
    const l = log(3);
    const fake = fakeServer([[frame(l[0]), { wait: 50 }, frame(l[1]), frame(l[2])]], { log: l });
    const { sub, seen } = await follow(fake);
    await new Promise((r) => setTimeout(r, 20));
    sub.close();
    await sub.done;
    await new Promise((r) => setTimeout(r, 60));
    expect(seen).toEqual([1]);
  });
});

describe("AirlockClient requests", () => {
  type Call = { url: string; init?: RequestInit };
  const headersOf = (c: Call) => (c.init?.headers ?? {}) as Record<string, string>;
  const clientWith = (answer: (url: string, init: RequestInit | undefined, n: number) => Response | Promise<Response>) => {
    const calls: Call[] = [];
    const client = new AirlockClient({
      baseUrl: "http://airlock.test",
      apiKey: "k2",
      retry: { initialDelayMs: 1, maxDelayMs: 2 },
      fetch: (async (url: string, init?: RequestInit) => {
        calls.push({ url, init });
        return answer(url, init, calls.length);
      }) as typeof fetch,
    });
    return { client, calls };
  };
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

  it("sends JSON with the key and turns error bodies into AirlockApiError", async () => {
    const { client, calls } = clientWith((url) => {
      if (url.includes("/interactions/")) return json({ error: { code: "conflict", message: "already answered" } }, 409);
      if (url.endsWith("/prompt")) return json({ turnId: "turn_1" }, 202);
      return new Response("<html>bad gateway</html>", { status: 502 });
    });
    expect(await client.sessions.prompt("ses_1", "hello")).toEqual({ turnId: "turn_1" });
    expect(calls[0].init).toMatchObject({ method: "POST", body: '{"text":"hello"}', headers: { authorization: "Bearer k2", "content-type": "application/json" } });
    await expect(client.sessions.answer("ses_1", "int_1", "allow")).rejects.toMatchObject({ status: 409, code: "conflict", message: "already answered" });
    expect(calls[1].init?.body).toBe('{"optionId":"allow"}');
    await expect(client.sessions.get("ses_1")).rejects.toMatchObject({ status: 502, code: "http_error" });
    const down = new AirlockClient({ baseUrl: "http://nowhere.test", retry: { retries: 0 }, fetch: (async () => Promise.reject(new TypeError("fetch failed"))) as typeof fetch });
    await expect(down.health()).rejects.toMatchObject({ status: 0, code: "unreachable", message: expect.stringContaining("http://nowhere.test") });
  });

  it("sends an idempotency key with every prompt and answer, and keeps it across retries of a safe failure", async () => {
    const { client, calls } = clientWith((url, _init, n) => {
      if (n <= 2) return json({ error: { code: "unavailable", message: "restarting" } }, 503);
      return url.endsWith("/prompt") ? json({ turnId: "turn_1" }, 202) : json({ interactionId: "int_1", optionId: "allow", outcome: "selected" });
    });
    expect(await client.sessions.prompt("ses_1", { text: "hi" })).toEqual({ turnId: "turn_1" });
    const keys = calls.map((c) => headersOf(c)["idempotency-key"]);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^idk_[0-9a-f]{32}$/);
    // A second call is another request: another key.
    await client.sessions.answer("ses_1", "int_1", { optionId: "allow" }, { idempotencyKey: "mine-1" });
    expect(headersOf(calls.at(-1)!)["idempotency-key"]).toBe("mine-1");
    await client.sessions.prompt("ses_1", "again");
    expect(headersOf(calls.at(-1)!)["idempotency-key"]).not.toBe(keys[0]);
  });

  it("never retries a POST without a key, nor a 4xx about the request", async () => {
    const unavailable = clientWith(() => json({ error: { code: "unavailable", message: "restarting" } }, 503));
    await expect(unavailable.client.sessions.cancel("ses_1")).rejects.toMatchObject({ status: 503 });
    expect(unavailable.calls).toHaveLength(1);
    const bad = clientWith(() => json({ error: { code: "bad_request", message: "invalid text" } }, 400));
    await expect(bad.client.sessions.prompt("ses_1", "x")).rejects.toMatchObject({ status: 400 });
    expect(bad.calls).toHaveLength(1);
    // A GET is retried up to the limit (4 retries), then the last error is thrown.
    await expect(unavailable.client.sessions.get("ses_1")).rejects.toMatchObject({ status: 503 });
    expect(unavailable.calls).toHaveLength(6);
  });
});
