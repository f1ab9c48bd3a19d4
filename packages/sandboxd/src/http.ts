/**
 * @module http — sandboxd's HTTP API, every request authorised by the session's bearer token.
 *
 *   GET  /health                      state of the relay and the agent
 *   GET  /journal?after=N&limit=K&wait=MS   NDJSON records after N (long-poll when none)
 *   GET  /journal/stream?after=N      NDJSON: everything after N, then the live tail (back-pressured)
 *   POST /ack {seq}                   the control plane has stored everything up to seq
 *   POST /send <JSON-RPC message>     journal it, then write it to the agent's stdin
 *   POST /shutdown                    stop the agent's process group, then exit
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { Journal } from "./journal.ts";
import type { Relay } from "./relay.ts";

const maxBodyBytes = 16 * 1024 * 1024;
const heartbeatMs = 15_000;

export interface Control {
  acked: number;
  onAck(seq: number): void;
  shutdown(): Promise<void>;
  touch(): void;
}

export function createHttp(token: string, journal: Journal, relay: Relay, control: Control) {
  const expected = Buffer.from(`Bearer ${token}`);
  return createServer(async (req, res) => {
    control.touch();
    const auth = Buffer.from(req.headers.authorization ?? "");
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) return error(res, 401, "unauthorized", "missing or wrong token");
    const url = new URL(req.url ?? "/", "http://sandboxd");
    try {
      if (req.method === "GET" && url.pathname === "/health") {
        return json(res, 200, {
          ok: true,
          pid: process.pid,
          agentPid: relay.pid,
          agentRunning: relay.running,
          exit: relay.exit,
          lastSeq: journal.seq,
          ackedSeq: control.acked,
        });
      }
      if (req.method === "GET" && url.pathname === "/journal") return await longPoll(url, res, journal);
      if (req.method === "GET" && url.pathname === "/journal/stream") return stream(url, req, res, journal);
      if (req.method === "POST" && url.pathname === "/ack") {
        const body = (await readJson(req)) as { seq?: unknown };
        if (typeof body?.seq !== "number" || !Number.isInteger(body.seq) || body.seq < 0) return error(res, 400, "bad_request", "body must be {seq: integer}");
        control.onAck(body.seq);
        return json(res, 200, { ackedSeq: control.acked });
      }
      if (req.method === "POST" && url.pathname === "/send") {
        const msg = await readJson(req);
        if (!msg || typeof msg !== "object" || Array.isArray(msg)) return error(res, 400, "bad_request", "body must be one JSON-RPC message object");
        if (!relay.running) return error(res, 409, "conflict", "the agent is not running");
        return json(res, 200, { seq: relay.send(msg) });
      }
      if (req.method === "POST" && url.pathname === "/shutdown") {
        await control.shutdown();
        return json(res, 200, { ok: true });
      }
      return error(res, 404, "not_found", `no route ${req.method} ${url.pathname}`);
    } catch (err) {
      if ((err as { status?: number }).status === 400) return error(res, 400, "bad_request", (err as Error).message);
      return error(res, 500, "internal", (err as Error).message);
    }
  });
}

async function longPoll(url: URL, res: ServerResponse, journal: Journal): Promise<void> {
  const after = intParam(url, "after", 0);
  const limit = Math.min(intParam(url, "limit", 1000), 10_000);
  const wait = Math.min(intParam(url, "wait", 0), 30_000);
  let lines = journal.read(after, limit);
  if (lines.length === 0 && wait > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      const off = journal.onAppend(done);
      res.once("close", done);
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    lines = journal.read(after, limit);
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  res.end(lines.join(""));
}

function stream(url: URL, req: IncomingMessage, res: ServerResponse, journal: Journal): void {
  let cursor = intParam(url, "after", 0);
  res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-cache" });
  res.flushHeaders();
  let waitingForDrain = false;
  let closed = false;
  const pump = () => {
    if (closed || waitingForDrain) return;
    for (;;) {
      const lines = journal.read(cursor, 2000);
      if (lines.length === 0) return;
      cursor += lines.length;
      if (!res.write(lines.join(""))) {
        waitingForDrain = true;
        res.once("drain", () => {
          waitingForDrain = false;
          pump();
        });
        return;
      }
    }
  };
  const off = journal.onAppend(pump);
  const heartbeat = setInterval(() => {
    if (!waitingForDrain) res.write("\n");
  }, heartbeatMs);
  const close = () => {
    closed = true;
    off();
    clearInterval(heartbeat);
  };
  req.once("close", close);
  res.once("close", close);
  pump();
}

function intParam(url: URL, name: string, fallback: number): number {
  const value = url.searchParams.get(name);
  if (value === null || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw Object.assign(new Error(`${name} must be a non-negative integer`), { status: 400 });
  return n;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw Object.assign(new Error("body too large"), { status: 400 });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw Object.assign(new Error("malformed JSON"), { status: 400 });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } });
}
