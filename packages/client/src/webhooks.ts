/**
 * @module webhooks — the `/v1/webhooks` calls (reached as `airlock.webhooks`), and a check of a delivery's
 * `Airlock-Signature` with WebCrypto (Node 20+, browsers and edge runtimes alike).
 */
import type { CreateWebhook, DeliveriesPage, WebhookView } from "@airlock/protocol";
import type { CallOptions, Transport } from "./http.ts";

type Call = Pick<CallOptions, "signal">;
const path = (id: string, rest = "") => `/v1/webhooks/${encodeURIComponent(id)}${rest}`;

export class WebhooksApi {
  constructor(private readonly transport: Transport) {}

  /** Creates a webhook; the answer's `secret` signs its deliveries and is shown only here. */
  create(body: CreateWebhook, options: Call = {}): Promise<WebhookView & { secret: string }> {
    return this.transport.request({ method: "POST", path: "/v1/webhooks", body, signal: options.signal });
  }

  async list(options: Call = {}): Promise<WebhookView[]> {
    return (await this.transport.request<{ webhooks: WebhookView[] }>({ method: "GET", path: "/v1/webhooks", signal: options.signal })).webhooks;
  }

  get(id: string, options: Call = {}): Promise<WebhookView> {
    return this.transport.request({ method: "GET", path: path(id), signal: options.signal });
  }

  /** Removes it with its delivery state: nothing more is sent. */
  delete(id: string, options: Call = {}): Promise<{ id: string; deleted: true }> {
    return this.transport.request({ method: "DELETE", path: path(id), signal: options.signal });
  }

  /** The delivery log, newest first, and where each followed session stands. */
  deliveries(id: string, query: { before?: string; limit?: number } = {}, options: Call = {}): Promise<DeliveriesPage> {
    const params = new URLSearchParams();
    if (query.before) params.set("before", query.before);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    const qs = params.toString();
    return this.transport.request({ method: "GET", path: path(id, `/deliveries${qs ? `?${qs}` : ""}`), signal: options.signal });
  }

  /** A paused webhook delivers again from where it stopped. */
  resume(id: string, options: Call = {}): Promise<WebhookView> {
    return this.transport.request({ method: "POST", path: path(id, "/resume"), signal: options.signal });
  }
}

/**
 * True when `header` (`Airlock-Signature: t=…,v1=…`) signs `body` (the raw request body, as received) with
 * `secret`, and its timestamp is within `toleranceSec` of now: a delivery replayed later is refused.
 *
 * @example
 * if (!(await verifyWebhookSignature(secret, rawBody, req.headers["airlock-signature"]))) return res.writeHead(401).end();
 */
export async function verifyWebhookSignature(secret: string, body: string, header: string | null | undefined, options: { toleranceSec?: number; nowSec?: number } = {}): Promise<boolean> {
  if (!header) return false;
  const fields = header.split(",").map((kv) => [kv.slice(0, kv.indexOf("=")).trim(), kv.slice(kv.indexOf("=") + 1).trim()]);
  const t = Number(fields.find(([k]) => k === "t")?.[1]);
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(t) || Math.abs(now - t) > (options.toleranceSec ?? 300)) return false;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${t}.${body}`)));
  const expected = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  // Compared in full whatever differs first: no early exit to time.
  return fields.some(([k, v]) => {
    if (k !== "v1" || v.length !== expected.length) return false;
    let diff = 0;
    for (let i = 0; i < v.length; i++) diff |= v.charCodeAt(i) ^ expected.charCodeAt(i);
    return diff === 0;
  });
}
