/**
 * @module client — the control plane's client for sandboxd (unix socket locally, HTTPS URL for E2B).
 */
import http from "node:http";
import https from "node:https";
import type { JournalRecord, JsonRpcMessage, SandboxdEndpoint } from "@airlock/protocol";

export interface SandboxdHealth {
  ok: boolean;
  pid: number;
  agentPid: number | null;
  agentRunning: boolean;
  /** Setup commands or services are being prepared; the agent starts after them. */
  preparing?: boolean;
  exit: { code: number | null; signal: string | null } | null;
  lastSeq: number;
  ackedSeq: number;
}

/** A service as the relay reports it (`startedAt` in ms since the epoch). */
export interface SandboxdService {
  name: string;
  command: string;
  readyPort: number | null;
  readyPath: string | null;
  status: "starting" | "running" | "exited";
  exitCode: number | null;
  signal: string | null;
  startedAt: number | null;
  starts: number;
}

/** A failed call to sandboxd: `status` is the HTTP status (0 when there was no answer), `code` its error code. */
export class SandboxdError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "SandboxdError";
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const secureAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });

export class SandboxdClient {
  constructor(readonly endpoint: SandboxdEndpoint) {}

  health(timeoutMs = 5000): Promise<SandboxdHealth> {
    return this.json("GET", "/health", undefined, timeoutMs);
  }

  send(message: JsonRpcMessage): Promise<{ seq: number }> {
    return this.json("POST", "/send", message);
  }

  ack(seq: number): Promise<{ ackedSeq: number }> {
    return this.json("POST", "/ack", { seq });
  }

  /** The setup's services as the relay runs them. */
  services(): Promise<{ services: SandboxdService[]; preparing: boolean; setupDone: boolean }> {
    return this.json("GET", "/services");
  }

  /** The last `tail` lines of a service's log. */
  serviceLog(name: string, tail: number): Promise<{ lines: string[]; truncated: boolean }> {
    return this.json("GET", `/services/${encodeURIComponent(name)}/log?tail=${tail}`);
  }

  shutdown(): Promise<{ ok: boolean }> {
    return this.json("POST", "/shutdown", {}, 15_000);
  }

  /** Records after `after` (at most `limit`), waiting up to `waitMs` for one when there are none. */
  async read(after: number, limit = 1000, waitMs = 0): Promise<JournalRecord[]> {
    const path = `/journal?after=${after}&limit=${limit}&wait=${waitMs}`;
    const res = await this.request("GET", path, undefined, waitMs + 10_000);
    const text = await readAll(res);
    if (res.statusCode !== 200) throw failure("GET", path, res.statusCode ?? 0, text);
    return parseLines(text, text.length - 1, []);
  }

  /**
   * Everything after `after`, then the live tail, handed to `onRecords` a batch at a time and never two at once:
   * what arrives while one batch is handled comes as the next (commit each as one). A callback, not an async
   * iterator: two iterator layers per network chunk cost more than the chunk's own parse at a steady trickle.
   * Resolves when the relay ends the stream or `signal` aborts; rejects when the connection fails or `onRecords`
   * throws. Past `maxPending` waiting records the socket is paused, and the relay holds the rest.
   */
  async follow(after: number, onRecords: (records: JournalRecord[]) => unknown, signal?: AbortSignal, maxPending = 10_000): Promise<void> {
    const path = `/journal/stream?after=${after}`;
    // Heartbeats arrive every 15 s: a minute of silence means a dead connection (a NAT or VM network drop).
    const res = await this.request("GET", path, undefined, 60_000, signal);
    if (res.statusCode !== 200) throw failure("GET", path, res.statusCode ?? 0, await readAll(res));
    res.setEncoding("utf8");
    return new Promise<void>((resolve, reject) => {
      let carry = "";
      let pending: JournalRecord[] = [];
      let handling = false;
      let ended = false;
      let settled = false;
      const settle = (err?: unknown) => {
        if (settled) return;
        settled = true;
        res.destroy();
        if (err === undefined || signal?.aborted) resolve();
        else reject(err);
      };
      const handle = async () => {
        handling = true;
        try {
          while (pending.length && !settled) {
            const batch = pending;
            pending = [];
            await onRecords(batch);
            if (res.isPaused()) res.resume();
          }
        } catch (err) {
          settle(err);
        }
        handling = false;
        if (ended) settle();
      };
      res.on("data", (chunk: string) => {
        const text = carry + chunk;
        const end = text.lastIndexOf("\n");
        if (end < 0) {
          carry = text;
          return;
        }
        carry = text.slice(end + 1);
        try {
          parseLines(text, end, pending);
        } catch (err) {
          settle(err);
          return;
        }
        if (pending.length >= maxPending) res.pause();
        if (!handling && pending.length) void handle();
      });
      res.on("end", () => {
        ended = true;
        if (!handling) settle();
      });
      res.on("error", settle);
      res.on("close", () => ended || settle(new SandboxdError(0, `sandboxd GET ${path}: the stream was cut`)));
    });
  }

  private async json<T>(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
    const res = await this.request(method, path, body, timeoutMs);
    const text = await readAll(res);
    if (res.statusCode !== 200) throw failure(method, path, res.statusCode ?? 0, text);
    return JSON.parse(text) as T;
  }

  private request(method: string, path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { ...this.endpoint.headers, authorization: `Bearer ${this.endpoint.token}` };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      let req: http.ClientRequest;
      if (this.endpoint.socketPath) {
        req = http.request({ socketPath: this.endpoint.socketPath, path, method, headers, agent, signal }, resolve);
      } else if (this.endpoint.url) {
        const url = new URL(path, this.endpoint.url);
        const lib = url.protocol === "https:" ? https : http;
        req = lib.request(url, { method, headers, agent: url.protocol === "https:" ? secureAgent : agent, signal }, resolve);
      } else {
        reject(new Error("sandboxd endpoint has neither socketPath nor url"));
        return;
      }
      req.on("error", reject);
      if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new SandboxdError(0, `sandboxd ${method} ${path} timed out after ${timeoutMs} ms`)));
      req.end(payload);
    });
  }
}

/** Polls `GET /health` until sandboxd answers or the time is up. */
export async function waitForSandboxd(endpoint: SandboxdEndpoint, timeoutMs = 10_000): Promise<SandboxdHealth> {
  const client = new SandboxdClient(endpoint);
  const until = Date.now() + timeoutMs;
  let delay = 10;
  let last: unknown;
  while (Date.now() < until) {
    try {
      return await client.health(1000);
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
  throw new Error(`sandboxd did not answer within ${timeoutMs} ms: ${(last as Error)?.message ?? "no answer"}`);
}

function failure(method: string, path: string, status: number, body: string): SandboxdError {
  let message = body;
  let code: string | undefined;
  try {
    const parsed = JSON.parse(body) as { error: { code: string; message: string } };
    message = parsed.error.message;
    code = parsed.error.code;
  } catch {}
  return new SandboxdError(status, `sandboxd ${method} ${path}: ${status} ${message}`, code);
}

/** Parses the ndjson lines of `text` up to the newline at `end` into `out`. */
function parseLines(text: string, end: number, out: JournalRecord[]): JournalRecord[] {
  let start = 0;
  let nl: number;
  while (start < end && (nl = text.indexOf("\n", start)) >= 0 && nl <= end) {
    if (nl > start) out.push(JSON.parse(text.slice(start, nl)));
    start = nl + 1;
  }
  return out;
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  let text = "";
  res.setEncoding("utf8");
  for await (const chunk of res) text += chunk;
  return text;
}
