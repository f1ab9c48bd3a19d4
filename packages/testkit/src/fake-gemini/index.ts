/**
 * @module fake-gemini — a scripted stand-in for Google's Gemini API (Generative Language API), what Gemini CLI
 * speaks, for tests that must run offline.
 *
 * What it imitates: `POST /v1beta/models/MODEL:streamGenerateContent?alt=sse` (SSE `data:` chunks of
 * `GenerateContentResponse`: thought parts, text parts in pieces, function calls, `finishReason` and
 * cumulative `usageMetadata` on the last chunk), `:generateContent` (one JSON response), `:countTokens`
 * (rough); the key as `x-goog-api-key` or `?key=`; Google's error body `{error: {code, message, status}}`.
 *
 * What it does not: tokenization (usage is scripted or made up), safety ratings, grounding, caching APIs,
 * files, the models list beyond echoing. Request bodies are parsed, not validated.
 *
 * Queued replies first (`reply`), then a function of the request (`respond`); every request is recorded.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface GeminiReply {
  text?: string;
  /** A thought summary, sent as one `thought: true` part before the text (`**Subject**\nText`). */
  thought?: string;
  functionCalls?: Array<{ name: string; args: Record<string, unknown> }>;
  error?: { status: number; message: string; statusName?: string };
  delayMs?: number;
  /** Chunks per text (default 3). */
  pieces?: number;
  usage?: { input: number; output: number; cached?: number };
}

export interface RecordedGeminiRequest {
  method: string;
  path: string;
  /** The model and method of a model call: `gemini-2.5-pro`, `streamGenerateContent`. */
  model?: string;
  action?: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  at: number;
}

export interface FakeGemini {
  /** Base URL as Gemini clients take it (`GOOGLE_GEMINI_BASE_URL`): no version. */
  url: string;
  requests: RecordedGeminiRequest[];
  reply(...replies: GeminiReply[]): void;
  respond(fn: (request: RecordedGeminiRequest) => GeminiReply | Promise<GeminiReply>): void;
  close(): Promise<void>;
}

const statusNames: Record<number, string> = { 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE" };

export async function startFakeGemini(options: { apiKey?: string } = {}): Promise<FakeGemini> {
  const queue: GeminiReply[] = [];
  let respond: (request: RecordedGeminiRequest) => GeminiReply | Promise<GeminiReply> = () => ({ text: "OK." });
  const requests: RecordedGeminiRequest[] = [];
  const sockets = new Set<Socket>();
  let responses = 0;

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const raw = await readBody(req);
    let body: any = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const call = url.pathname.match(/^\/v1(?:beta|alpha)?\/models\/([^/:]+):(\w+)$/);
    const request: RecordedGeminiRequest = { method: req.method ?? "GET", path: url.pathname + url.search, model: call?.[1], action: call?.[2], headers: req.headers, body, at: Date.now() };
    requests.push(request);
    const key = (req.headers["x-goog-api-key"] as string | undefined) || url.searchParams.get("key");
    if (!key || (options.apiKey !== undefined && key !== options.apiKey)) return error(res, { status: 401, message: "API key not valid. Please pass a valid API key." });
    if (!call || req.method !== "POST") return error(res, { status: 404, message: `${req.method} ${url.pathname} is not served by the fake` });
    const [, model, action] = call;
    if (action === "countTokens") return json(res, 200, { totalTokens: Math.ceil(raw.length / 4) });
    if (action !== "generateContent" && action !== "streamGenerateContent") return error(res, { status: 404, message: `method ${action} is not served by the fake` });
    const reply = queue.shift() ?? (await respond(request));
    if (reply.error) return error(res, reply.error);
    const responseId = `resp_fake_${++responses}`;
    const usage = usageOf(reply);
    if (action === "generateContent") return json(res, 200, chunk(model, responseId, [...thoughtParts(reply), ...textParts(reply, 1), ...callParts(reply)], usage, true));
    res.writeHead(200, { "content-type": "text/event-stream" });
    const send = (data: unknown) => !res.destroyed && res.write(`data: ${JSON.stringify(data)}\r\n\r\n`);
    const wait = () => (reply.delayMs ? new Promise((r) => setTimeout(r, reply.delayMs)) : Promise.resolve());
    const parts = [...thoughtParts(reply), ...textParts(reply, reply.pieces ?? 3)];
    // The last chunk carries the last piece with the function calls, `finishReason` and the final usage.
    const last = parts.pop();
    for (const part of parts) {
      await wait();
      if (res.destroyed) return;
      send(chunk(model, responseId, [part], { promptTokenCount: usage.promptTokenCount }, false));
    }
    await wait();
    send(chunk(model, responseId, [...(last ? [last] : []), ...callParts(reply)], usage, true));
    res.end();
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function split(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, n)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
/** A thought summary comes whole, as the real API sends them (`**Subject**\nText`). */
const thoughtParts = (r: GeminiReply) => (r.thought ? [{ text: r.thought, thought: true }] : []);
const textParts = (r: GeminiReply, n: number) => (r.text ? split(r.text, n).map((text) => ({ text })) : []);
const callParts = (r: GeminiReply) => (r.functionCalls ?? []).map((c) => ({ functionCall: { name: c.name, args: c.args } }));

function usageOf(r: GeminiReply) {
  const input = r.usage?.input ?? 100;
  const output = r.usage?.output ?? Math.max(1, Math.ceil(((r.text ?? "").length + (r.thought ?? "").length + JSON.stringify(r.functionCalls ?? []).length) / 4));
  return { promptTokenCount: input, candidatesTokenCount: output, totalTokenCount: input + output, ...(r.usage?.cached ? { cachedContentTokenCount: r.usage.cached } : {}) };
}

function chunk(model: string, responseId: string, parts: unknown[], usageMetadata: unknown, last: boolean) {
  return {
    candidates: [{ content: { parts, role: "model" }, index: 0, ...(last ? { finishReason: "STOP" } : {}) }],
    usageMetadata,
    modelVersion: model,
    responseId,
  };
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function error(res: ServerResponse, e: { status: number; message: string; statusName?: string }) {
  json(res, e.status, { error: { code: e.status, message: e.message, status: e.statusName ?? statusNames[e.status] ?? "UNKNOWN" } });
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  req.setEncoding("utf8");
  for await (const chunk of req) text += chunk;
  return text;
}
