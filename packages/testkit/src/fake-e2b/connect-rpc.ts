/**
 * @module connect-rpc — the Connect protocol as the E2B SDK speaks it to envd (`useBinaryFormat: false`).
 *
 * Unary calls: `POST /<package.Service>/<Method>`, `Content-Type: application/json`, the request message as
 * plain JSON; the answer is plain JSON, errors are an HTTP status with `{"code": "not_found", "message"}`.
 * Server streams: `Content-Type: application/connect+json`; request and answers are envelopes of one flag
 * byte, a 4-byte big-endian length and the JSON message; the stream ends with an envelope flagged `0x02`
 * holding `{}` or `{"error": {code, message}}`, always under HTTP 200. Messages use protobuf's JSON mapping:
 * lowerCamelCase names, `bytes` in base64, enums by name, int64 as strings.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export type ConnectCode =
  | "canceled"
  | "unknown"
  | "invalid_argument"
  | "deadline_exceeded"
  | "not_found"
  | "already_exists"
  | "permission_denied"
  | "resource_exhausted"
  | "failed_precondition"
  | "unimplemented"
  | "internal"
  | "unavailable"
  | "unauthenticated";

/** HTTP status of a unary error, per the Connect protocol's table. */
const httpStatus: Record<ConnectCode, number> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  unauthenticated: 401,
};

export class ConnectError extends Error {
  constructor(
    readonly code: ConnectCode,
    message: string,
  ) {
    super(message);
  }
}

export const streamContentType = "application/connect+json";

/** Reads a request body whole (bounded: envd requests are small JSON). */
export async function readBody(req: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new ConnectError("resource_exhausted", "request body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The request message of a unary (plain JSON) or server-streaming (one envelope) call. */
export function decodeRequest(body: Buffer, contentType: string): any {
  if (contentType.startsWith(streamContentType)) {
    if (body.length < 5) throw new ConnectError("invalid_argument", "missing request envelope");
    const length = body.readUInt32BE(1);
    return JSON.parse(body.subarray(5, 5 + length).toString("utf8") || "{}");
  }
  return JSON.parse(body.toString("utf8") || "{}");
}

export function envelope(message: unknown, flags = 0): Buffer {
  const json = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(json.length, 1);
  return Buffer.concat([head, json]);
}

export function sendUnary(res: ServerResponse, message: unknown): void {
  const body = JSON.stringify(message);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export function sendUnaryError(res: ServerResponse, err: ConnectError): void {
  const body = JSON.stringify({ code: err.code, message: err.message });
  res.writeHead(httpStatus[err.code], { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** A server stream: `send` writes message envelopes, `end` the end-of-stream envelope (with an error or not). */
export class ServerStream {
  private ended = false;
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, { "content-type": streamContentType });
    // Flush the headers now: the SDK waits for the first event (the start event) before anything else.
    res.flushHeaders();
  }

  /** Runs `fn` once the client goes away or the stream ends. */
  onClose(fn: () => void): void {
    if (this.res.destroyed || this.res.writableFinished) fn();
    else this.res.once("close", fn);
  }

  get closed(): boolean {
    return this.ended || this.res.destroyed || this.res.writableEnded;
  }

  send(message: unknown): void {
    if (!this.closed) this.res.write(envelope(message));
  }

  end(error?: ConnectError): void {
    if (this.closed) return;
    this.ended = true;
    this.res.end(envelope(error ? { error: { code: error.code, message: error.message } } : {}, 0x02));
  }

  /** Drops the connection without an end envelope, as a sandbox that pauses or dies does. */
  abort(): void {
    this.ended = true;
    this.res.destroy();
  }
}
