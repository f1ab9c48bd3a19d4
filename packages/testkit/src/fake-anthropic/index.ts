/**
 * @module fake-anthropic — a scripted stand-in for the Anthropic Messages API, for tests that must run offline.
 *
 * What it imitates: `POST /v1/messages` (with or without `?beta=true`), `x-api-key` or `Authorization: Bearer`
 * auth, streaming SSE in the real event order and shapes (see `stream.ts`: text, thinking with its signature,
 * tool_use with input_json_delta, `ping`, `message_delta` with stop_reason and usage, and an `error` event
 * mid-stream), the non-streaming JSON message, Anthropic's error body `{type:"error", error:{type, message},
 * request_id}` with its status and the `retry-after` / `x-should-retry` headers, a `request-id` header on
 * every answer, slow streams, and `HEAD /` → 404 as the real host answers Claude Code's connectivity probe.
 *
 * What it does not: models (any `model` is echoed back), tokenization (usage is scripted or made up from the
 * text's length), prompt caching, message batches, files, the models list; `count_tokens` is a rough estimate.
 * It does not validate request bodies beyond parsing JSON.
 *
 * A test scripts it per request: queued replies first (`reply`), then a function of the request (`respond`).
 * Every request is recorded, headers and body, so tests can assert on what the agent sent.
 *
 * @example
 *   const llm = await startFakeAnthropic();
 *   llm.reply({ toolUse: [{ name: "Write", input: { file_path: "/workspace/a.txt", content: "hi" } }] }, { text: "Done." });
 *   // ... point the client at llm.url, then:
 *   expect(llm.requests[1].body.messages.at(-1).content[0].type).toBe("tool_result");
 *   await llm.close();
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type Reply, type ScriptedError, messageJson, nextId } from "./reply.ts";
import { streamReply } from "./stream.ts";

export type { Block, Reply, ScriptedError, ToolUse } from "./reply.ts";

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  at: number;
}

export interface FakeAnthropicOptions {
  /** When set, only this key (as `x-api-key` or Bearer) is accepted; others get a 401 like the real API's. */
  apiKey?: string;
}

export interface FakeAnthropic {
  url: string;
  /** Every request received, oldest first (HEAD probes included). */
  requests: RecordedRequest[];
  /** Queue replies for the next `/v1/messages` requests, in order. */
  reply(...replies: Reply[]): void;
  /** Decide each reply from the request (used once the queue is empty). The default answers "OK.". */
  respond(fn: (request: RecordedRequest) => Reply | Promise<Reply>): void;
  /** Resolves with the first recorded request (past or future) that `match` accepts. */
  waitForRequest(match: (request: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const queue: Reply[] = [];
  let respond: (request: RecordedRequest) => Reply | Promise<Reply> = () => ({ text: "OK." });
  const requests: RecordedRequest[] = [];
  const watchers = new Set<() => void>();
  const sockets = new Set<Socket>();

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const raw = await readBody(req);
    const requestId = nextId("req");
    let body: any = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    requests.push({ method: req.method ?? "GET", path: url.pathname + url.search, headers: req.headers, body, at: Date.now() });
    for (const w of watchers) w();
    if (req.method === "HEAD" || req.method === "GET") return void res.writeHead(404, { "request-id": requestId }).end();
    if (typeof body !== "object" || body === null) return error(res, requestId, { status: 400, type: "invalid_request_error", message: "request body is not valid JSON" });
    const key = req.headers["x-api-key"] ?? req.headers.authorization?.replace(/^Bearer\s+/i, "");
    if (!key || (options.apiKey !== undefined && key !== options.apiKey)) {
      return error(res, requestId, { status: 401, type: "authentication_error", message: key ? "invalid x-api-key" : "x-api-key header is required" });
    }
    if (url.pathname === "/v1/messages/count_tokens") return json(res, requestId, 200, { input_tokens: Math.ceil(raw.length / 4) });
    if (url.pathname !== "/v1/messages" || req.method !== "POST") return error(res, requestId, { status: 404, type: "not_found_error", message: `${req.method} ${url.pathname} is not served by the fake` });
    const reply = queue.shift() ?? (await respond(requests.at(-1)!));
    if (reply.error) return error(res, requestId, reply.error);
    const model = typeof body.model === "string" ? body.model : "claude-fake";
    if (body.stream === true) await streamReply(res, model, reply, requestId);
    else json(res, requestId, 200, messageJson(model, reply));
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply: (...replies) => void queue.push(...replies),
    respond: (fn) => void (respond = fn),
    waitForRequest(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = requests.find(match);
          if (!found) return false;
          clearTimeout(timer);
          watchers.delete(check);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`no matching request within ${timeoutMs} ms (${requests.length} received)`));
        }, timeoutMs);
        if (!check()) watchers.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, requestId: string, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", "request-id": requestId, ...headers }).end(JSON.stringify(body));
}

function error(res: ServerResponse, requestId: string, e: ScriptedError) {
  const headers: Record<string, string> = {};
  if (e.retryAfterSec !== undefined) headers["retry-after"] = String(e.retryAfterSec);
  if (e.shouldRetry !== undefined) headers["x-should-retry"] = String(e.shouldRetry);
  json(res, requestId, e.status, { type: "error", error: { type: e.type, message: e.message }, request_id: requestId }, headers);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  req.setEncoding("utf8");
  for await (const chunk of req) text += chunk;
  return text;
}
