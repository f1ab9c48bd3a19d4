/**
 * @module fake-openai — a scripted stand-in for OpenAI's Responses API (what Codex speaks), for tests that
 * must run offline.
 *
 * What it imitates: `POST /v1/responses`, streaming (see `stream.ts`: message text, reasoning summaries,
 * function calls and freeform tool calls with their deltas, `response.completed` with usage, or `response.failed`) and non-streaming;
 * `Authorization: Bearer` auth; OpenAI's error body `{error: {message, type, param, code}}` with its status;
 * an `x-request-id` header; slow streams; `GET /v1/models` (the requested models, echoed).
 *
 * What it does not: Chat Completions, tokenization (usage is scripted or made up), `previous_response_id`
 * state, websockets, files, images. Request bodies are parsed as JSON, not validated.
 *
 * Like the fake Anthropic API: queued replies first (`reply`), then a function of the request (`respond`);
 * every request is recorded.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type OpenAIReply, responseJson, streamResponse } from "./stream.ts";

export type { CustomToolCall, FunctionCall, OpenAIReply } from "./stream.ts";

export interface RecordedOpenAIRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  at: number;
}

export interface FakeOpenAI {
  /** Base URL as OpenAI clients take it: ends in `/v1`. */
  url: string;
  requests: RecordedOpenAIRequest[];
  reply(...replies: OpenAIReply[]): void;
  respond(fn: (request: RecordedOpenAIRequest) => OpenAIReply | Promise<OpenAIReply>): void;
  close(): Promise<void>;
}

export async function startFakeOpenAI(options: { apiKey?: string } = {}): Promise<FakeOpenAI> {
  const queue: OpenAIReply[] = [];
  let respond: (request: RecordedOpenAIRequest) => OpenAIReply | Promise<OpenAIReply> = () => ({ text: "OK." });
  const requests: RecordedOpenAIRequest[] = [];
  const sockets = new Set<Socket>();
  let requestIds = 0;

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const raw = await readBody(req);
    const requestId = `req_fake_${++requestIds}`;
    let body: any = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    requests.push({ method: req.method ?? "GET", path: url.pathname + url.search, headers: req.headers, body, at: Date.now() });
    const key = req.headers.authorization?.replace(/^Bearer\s+/i, "");
    if (!key || (options.apiKey !== undefined && key !== options.apiKey)) {
      return error(res, requestId, { status: 401, type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key provided." });
    }
    if (req.method === "GET" && url.pathname === "/v1/models") {
      return json(res, requestId, 200, { object: "list", data: [...new Set(requests.map((r) => r.body?.model).filter(Boolean))].map((id) => ({ id, object: "model", owned_by: "fake" })) });
    }
    if (req.method !== "POST" || url.pathname !== "/v1/responses") {
      return error(res, requestId, { status: 404, type: "invalid_request_error", message: `${req.method} ${url.pathname} is not served by the fake` });
    }
    if (typeof body !== "object" || body === null) return error(res, requestId, { status: 400, type: "invalid_request_error", message: "request body is not valid JSON" });
    const reply = queue.shift() ?? (await respond(requests.at(-1)!));
    if (reply.error) return error(res, requestId, reply.error);
    const model = typeof body.model === "string" ? body.model : "gpt-fake";
    if (body.stream === true) await streamResponse(res, model, reply, requestId);
    else json(res, requestId, 200, responseJson(model, reply));
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    reply: (...replies) => void queue.push(...replies),
    respond: (fn) => void (respond = fn),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, requestId: string, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json", "x-request-id": requestId }).end(JSON.stringify(body));
}

function error(res: ServerResponse, requestId: string, e: { status: number; type: string; message: string; code?: string }) {
  json(res, requestId, e.status, { error: { message: e.message, type: e.type, param: null, code: e.code ?? null } });
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  req.setEncoding("utf8");
  for await (const chunk of req) text += chunk;
  return text;
}
