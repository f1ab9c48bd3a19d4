/**
 * @module fake-anthropic — a scripted stand-in for the Anthropic Messages API, for tests that must run offline.
 *
 * What it imitates: `POST /v1/messages` (with or without `?beta=true`), `x-api-key` or Bearer auth, streaming
 * SSE in the real event order (message_start, content_block_start/delta/stop for text, thinking with a
 * signature, and tool_use with input_json_delta, message_delta with stop_reason and usage, message_stop) and
 * the non-streaming JSON shape; Anthropic-shaped errors with their status; slow streams. `HEAD /` answers 404
 * like the real host. What it does not: models, tokenization (usage figures are made up from text length),
 * prompt caching, batches, files, count_tokens beyond a rough estimate.
 *
 * Each request is answered by the next scripted reply (or the `respond` function); every request is recorded.
 */
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface ToolUse {
  name: string;
  input: unknown;
  id?: string;
}

export interface Reply {
  text?: string;
  thinking?: string;
  toolUse?: ToolUse[];
  stopReason?: "end_turn" | "tool_use" | "max_tokens" | "stop_sequence" | "refusal";
  /** Delay before each streamed delta, for slow streams. */
  delayMs?: number;
  /** How many pieces each text is streamed in (default 3). */
  pieces?: number;
  error?: { status: number; type: string; message: string };
  usage?: { input: number; output: number };
}

export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface FakeAnthropic {
  url: string;
  requests: RecordedRequest[];
  /** Queue replies for the next requests, in order. */
  reply(...replies: Reply[]): void;
  /** Decide each reply from the request instead (queued replies still come first). */
  respond(fn: (request: RecordedRequest) => Reply): void;
  close(): Promise<void>;
}

let ids = 0;

export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const queue: Reply[] = [];
  let fallback: (request: RecordedRequest) => Reply = () => ({ text: "OK." });
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import("node:net").Socket>();

  const server = createServer(async (req, res) => {
    if (req.method === "HEAD" || req.method === "GET") {
      res.writeHead(404).end();
      return;
    }
    const url = new URL(req.url ?? "/", "http://fake");
    const raw = await readBody(req);
    let body: any = {};
    try {
      body = JSON.parse(raw || "{}");
    } catch {
      return error(res, 400, "invalid_request_error", "malformed JSON");
    }
    const request: RecordedRequest = { path: url.pathname + url.search, headers: req.headers, body };
    requests.push(request);
    if (url.pathname.endsWith("/count_tokens")) return json(res, 200, { input_tokens: Math.ceil(raw.length / 4) });
    if (!url.pathname.endsWith("/v1/messages")) return error(res, 404, "not_found_error", `no route ${url.pathname}`);
    if (!req.headers["x-api-key"] && !req.headers.authorization) return error(res, 401, "authentication_error", "missing API key");
    const reply = queue.shift() ?? fallback(request);
    if (reply.error) return error(res, reply.error.status, reply.error.type, reply.error.message);
    if (body.stream) await stream(res, body.model ?? "claude-fake", reply);
    else json(res, 200, message(body.model ?? "claude-fake", reply));
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
    reply: (...replies) => queue.push(...replies),
    respond: (fn) => (fallback = fn),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function blocks(reply: Reply): any[] {
  const out: any[] = [];
  if (reply.thinking) out.push({ type: "thinking", thinking: reply.thinking, signature: "fake-signature" });
  if (reply.text) out.push({ type: "text", text: reply.text });
  for (const t of reply.toolUse ?? []) out.push({ type: "tool_use", id: t.id ?? `toolu_fake_${++ids}`, name: t.name, input: t.input });
  return out;
}

function usageOf(reply: Reply) {
  const output = reply.usage?.output ?? Math.max(1, Math.ceil(((reply.text ?? "").length + (reply.thinking ?? "").length + JSON.stringify(reply.toolUse ?? []).length) / 4));
  return { input_tokens: reply.usage?.input ?? 100, output_tokens: output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

function stopReason(reply: Reply) {
  return reply.stopReason ?? (reply.toolUse?.length ? "tool_use" : "end_turn");
}

function message(model: string, reply: Reply) {
  return { id: `msg_fake_${++ids}`, type: "message", role: "assistant", model, content: blocks(reply), stop_reason: stopReason(reply), stop_sequence: null, usage: usageOf(reply) };
}

async function stream(res: ServerResponse, model: string, reply: Reply): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const wait = () => (reply.delayMs ? new Promise((r) => setTimeout(r, reply.delayMs)) : Promise.resolve());
  const usage = usageOf(reply);
  send("message_start", { type: "message_start", message: { ...message(model, reply), content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } });
  const pieces = (text: string) => {
    const n = Math.max(1, reply.pieces ?? 3);
    const size = Math.max(1, Math.ceil(text.length / n));
    return Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
  };
  let index = 0;
  for (const block of blocks(reply)) {
    if (res.destroyed) return;
    if (block.type === "thinking") {
      send("content_block_start", { type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } });
      for (const p of pieces(block.thinking)) {
        await wait();
        send("content_block_delta", { type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: p } });
      }
      send("content_block_delta", { type: "content_block_delta", index, delta: { type: "signature_delta", signature: block.signature } });
    } else if (block.type === "text") {
      send("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } });
      for (const p of pieces(block.text)) {
        await wait();
        if (res.destroyed) return;
        send("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: p } });
      }
    } else {
      send("content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      for (const p of pieces(JSON.stringify(block.input))) {
        await wait();
        send("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: p } });
      }
    }
    send("content_block_stop", { type: "content_block_stop", index });
    index++;
  }
  send("message_delta", { type: "message_delta", delta: { stop_reason: stopReason(reply), stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  send("message_stop", { type: "message_stop" });
  res.end();
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, type: string, message: string) {
  json(res, status, { type: "error", error: { type, message } });
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  req.setEncoding("utf8");
  for await (const chunk of req) text += chunk;
  return text;
}
