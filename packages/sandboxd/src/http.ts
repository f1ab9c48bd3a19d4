/**
 * @module http — sandboxd's HTTP API; every request carries the session's bearer token.
 *
 *   GET  /health                            state of the relay and the agent
 *   GET  /journal?after=N&limit=K&wait=MS   NDJSON records after N (long-poll when there are none)
 *   GET  /journal/stream?after=N            NDJSON: everything after N, then the live tail (back-pressured)
 *   POST /ack {seq}                         the control plane has stored everything up to seq
 *   POST /send <JSON-RPC message>           journal it, then write it to the agent's stdin
 *   POST /shutdown                          stop the agent's process group, then exit
 *   GET  /services                          the setup's services and their status
 *   GET  /services/NAME/log?tail=N          the last N lines of a service's log
 *
 * Errors are `{"error": {"code", "message"}}`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Journal } from "./journal.ts";
import type { Relay } from "./relay.ts";

const maxBodyBytes = 16 * 1024 * 1024;
const maxDiscardBytes = 64 * 1024 * 1024;
const heartbeatMs = 15_000;
const maxWaitMs = 30_000;
const maxLimit = 10_000;
/** Records and bytes per write of a stream: a page from the file never pulls much into memory. */
const pageLines = 2000;
const pageBytes = 1024 * 1024;
/** Bytes per long-poll answer (at least one record). */
const pollBytes = 8 * 1024 * 1024;

export interface Control {
  readonly ackedSeq: number;
  /** Records an acknowledgement (monotonic); returns the acknowledged seq. */
  ack(seq: number): number;
  /** Stops the agent; resolves once its exit is journaled. */
  shutdown(): Promise<void>;
  /** A request began / ended (idle exit counts only time with none open). */
  begin(): void;
  end(): void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function createHttp(token: string, journal: Journal, relay: Relay, control: Control, log: (msg: string) => void): Server {
  const expected = digest(`Bearer ${token}`);
  const server = createServer((req, res) => {
    control.begin();
    res.once("close", () => control.end());
    // Hashing both sides gives equal lengths, so the comparison leaks neither content nor length.
    if (!timingSafeEqual(digest(req.headers.authorization ?? ""), expected)) {
      req.resume();
      return sendError(res, new HttpError(401, "unauthorized", "missing or wrong bearer token"));
    }
    route(req, res).catch((err) => {
      if (!(err instanceof HttpError)) log(`${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
      if (res.headersSent) res.destroy();
      else sendError(res, err instanceof HttpError ? err : new HttpError(500, "internal", (err as Error).message));
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sandboxd");
    const path = url.pathname;
    const allow = (method: string) => {
      if (req.method !== method) throw new HttpError(405, "method_not_allowed", `${path} takes ${method}`);
    };
    switch (path) {
      case "/health":
        allow("GET");
        return sendJson(res, 200, {
          ok: true,
          pid: process.pid,
          agentPid: relay.pid,
          agentRunning: relay.running,
          preparing: relay.preparing,
          exit: relay.exit,
          lastSeq: journal.seq,
          ackedSeq: control.ackedSeq,
        });
      case "/journal":
        allow("GET");
        return longPoll(url, res, journal);
      case "/journal/stream":
        allow("GET");
        return stream(url, res, journal);
      case "/ack": {
        allow("POST");
        const body = parseJson(await readBody(req, res)) as { seq?: unknown } | null;
        const seq = body?.seq;
        if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 0) throw new HttpError(400, "bad_request", "body must be {seq: non-negative integer}");
        return sendJson(res, 200, { ackedSeq: control.ack(seq) });
      }
      case "/send": {
        allow("POST");
        const msg = parseJson(await readBody(req, res));
        if (!msg || typeof msg !== "object" || Array.isArray(msg) || (msg as { jsonrpc?: unknown }).jsonrpc !== "2.0") {
          throw new HttpError(400, "bad_request", 'body must be one JSON-RPC message (an object with "jsonrpc": "2.0")');
        }
        if (relay.stopping) throw new HttpError(409, "agent_not_running", "the agent is stopping");
        if (!relay.accepting) throw new HttpError(409, "agent_not_running", "the agent is not running");
        return sendJson(res, 200, { seq: relay.send(msg) });
      }
      case "/shutdown":
        allow("POST");
        req.resume();
        await control.shutdown();
        return sendJson(res, 200, { ok: true });
      case "/services":
        allow("GET");
        return sendJson(res, 200, { services: relay.services?.list() ?? [], preparing: relay.preparing, setupDone: relay.setupDone });
      default: {
        const log = /^\/services\/([^/]+)\/log$/.exec(path);
        if (log) {
          allow("GET");
          const lines = Math.min(Math.max(intParam(url, "tail", 200), 1), 10_000);
          const tail = relay.services?.tail(decodeURIComponent(log[1]), lines);
          if (!tail) throw new HttpError(404, "not_found", `no service ${decodeURIComponent(log[1])}`);
          return sendJson(res, 200, tail);
        }
        throw new HttpError(404, "not_found", `no route ${req.method} ${path}`);
      }
    }
  }

  return server;
}

async function longPoll(url: URL, res: ServerResponse, journal: Journal): Promise<void> {
  const after = intParam(url, "after", 0);
  const limit = Math.min(intParam(url, "limit", 1000), maxLimit);
  const wait = Math.min(intParam(url, "wait", 0), maxWaitMs);
  let lines = journal.read(after, limit, pollBytes);
  if (lines.length === 0 && wait > 0 && limit > 0) {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        res.off("close", done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      const off = journal.onAppend(() => {
        if (journal.read(after, 1).length > 0) done();
      });
      res.once("close", done);
    });
    if (res.destroyed) return;
    lines = journal.read(after, limit, pollBytes);
  }
  const body = lines.join("");
  res.writeHead(200, { "content-type": "application/x-ndjson", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Everything after `after`, then the live tail, until the client goes away. Writes wait for 'drain' when
 * the socket is full, so a slow reader costs one page of memory, never the journal.
 */
function stream(url: URL, res: ServerResponse, journal: Journal): void {
  let cursor = intParam(url, "after", 0);
  res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-cache", "x-accel-buffering": "no" });
  res.flushHeaders();
  let lastWrite = Date.now();
  let draining = false;
  let closed = false;
  const pump = () => {
    if (closed || draining) return;
    for (;;) {
      const lines = journal.read(cursor, pageLines, pageBytes);
      if (lines.length === 0) return;
      cursor += lines.length;
      lastWrite = Date.now();
      if (!res.write(lines.join(""))) {
        draining = true;
        res.once("drain", () => {
          draining = false;
          pump();
        });
        return;
      }
    }
  };
  const off = journal.onAppend(pump);
  // A bare newline after 15 s of silence keeps proxies from closing the stream; readers skip empty lines.
  const heartbeat = setInterval(() => {
    if (!draining && Date.now() - lastWrite >= heartbeatMs) {
      lastWrite = Date.now();
      res.write("\n");
    }
  }, heartbeatMs / 3);
  res.once("close", () => {
    closed = true;
    off();
    clearInterval(heartbeat);
  });
  pump();
}

function intParam(url: URL, name: string, fallback: number): number {
  const value = url.searchParams.get(name);
  if (value === null || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(400, "bad_request", `${name} must be a non-negative integer`);
  return n;
}

/**
 * The request body, at most `maxBodyBytes`; past that the answer is 413. The rest of a moderately large body
 * is read and dropped first (answering mid-upload makes the client see a reset instead of the 413); a huge
 * one closes the connection.
 */
function readBody(req: IncomingMessage, res: ServerResponse): Promise<Buffer> {
  const tooLarge = new HttpError(413, "body_too_large", `the body is over ${maxBodyBytes} bytes`);
  if (Number(req.headers["content-length"] ?? 0) > maxDiscardBytes) {
    res.setHeader("connection", "close");
    res.once("finish", () => req.socket.destroy());
    return Promise.reject(tooLarge);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBodyBytes) chunks.push(chunk);
      else if (chunks.length) chunks.length = 0;
      if (size > maxDiscardBytes) req.socket.destroy();
    });
    req.once("end", () => (size > maxBodyBytes ? reject(tooLarge) : resolve(Buffer.concat(chunks))));
    req.once("error", reject);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "bad_json", "the body is not valid JSON");
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: { code: err.code, message: err.message } });
}
