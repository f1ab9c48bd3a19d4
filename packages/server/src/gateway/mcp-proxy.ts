/**
 * @module mcp-proxy — a session's remote MCP servers, reached through the control plane.
 *
 * The agent calls `/gateway/mcp/<name>` with its session's gateway token; the proxy finds that server among
 * its session's `mcpServers`, strips the agent's credentials, adds the server's configured headers (its
 * tokens, which never enter the sandbox) and passes the exchange on both ways, streamed: Streamable HTTP's
 * POST answers and GET streams, and the older SSE transport. A path under the server's route
 * (`/gateway/mcp/<name>/messages`) is a path on the server's own origin: the SSE transport names its POST
 * endpoint that way, and its `endpoint` event is rewritten to point back through this route.
 *
 * A token gives its session's servers and nothing else: not another session's, not another host.
 */
import type { IncomingMessage } from "node:http";
import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { type Context, Hono } from "hono";
import type { McpServerHttp } from "@airlock/protocol";
import { readBody } from "../http/body.ts";
import { callUpstream, hangUpSignal, streamTo } from "./proxy.ts";
import type { GatewayTokens } from "./tokens.ts";

export interface McpSessions {
  /** The remote MCP server `name` of a live session; null when the session has ended or names no such server. */
  mcpServer(sessionId: string, name: string): Promise<McpServerHttp | null>;
}

const maxRequestBytes = 16 * 1024 * 1024;
/**
 * Request headers that are the agent's or the hop's, never passed on (the server's own headers replace them).
 * `accept-encoding` too: answers pass through byte for byte, so they must come uncompressed.
 */
const dropRequest = new Set(["host", "authorization", "cookie", "connection", "keep-alive", "content-length", "transfer-encoding", "proxy-authorization", "te", "upgrade", "x-api-key", "accept-encoding"]);
/** Answer headers passed back: what MCP clients read. */
const keepAnswer = new Set(["content-type", "mcp-session-id", "mcp-protocol-version", "cache-control", "retry-after", "www-authenticate", "last-event-id"]);

export function mcpProxy(options: { tokens: GatewayTokens; sessions: McpSessions; mountPath: string }): Hono {
  const app = new Hono();
  const fail = (status: number, message: string) => Response.json({ jsonrpc: "2.0", id: null, error: { code: -32000, message: `Airlock MCP gateway: ${message}` } }, { status });

  const handle = async (c: Context) => {
    const node = c.env as Partial<HttpBindings> | undefined;
    const url = new URL(c.req.url);
    const token = c.req.header("authorization")?.replace(/^Bearer\s+/i, "");
    const sessionId = options.tokens.verify(token);
    if (!sessionId) return fail(401, "this token is not a valid session gateway token");
    const [name, ...rest] = url.pathname.slice(options.mountPath.length + 1).split("/");
    const server = await options.sessions.mcpServer(sessionId, decodeURIComponent(name ?? ""));
    if (!server) return fail(404, `this session has no HTTP MCP server named "${decodeURIComponent(name ?? "")}" (or it has ended)`);
    const target = upstreamUrl(server.url, rest, url.search);

    const headers = new Headers();
    for (const [key, value] of Object.entries(c.req.header())) if (!dropRequest.has(key.toLowerCase())) headers.set(key, value);
    for (const h of server.headers) headers.set(h.name, h.value);
    const body = await readBody(c, maxRequestBytes);
    if (body === null) return fail(413, `requests are limited to ${maxRequestBytes} bytes`);
    const hungUp = hangUpSignal(c, node?.outgoing);
    let upstream: IncomingMessage;
    try {
      upstream = await callUpstream(target, c.req.method, headers, body, hungUp);
    } catch (err) {
      if (hungUp.aborted) return fail(499, "the client went away");
      // The server's URL may carry a token in its query: name the server, not the URL.
      return fail(502, `MCP server "${server.name}" could not be reached: ${(err as Error).message}`);
    }
    const status = upstream.statusCode ?? 502;
    const answer = new Headers();
    for (const [key, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && keepAnswer.has(key)) answer.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const streaming = (answer.get("content-type") ?? "").includes("text/event-stream");
    if (streaming && server.type === "sse") {
      const route = `${options.mountPath}/${encodeURIComponent(server.name)}`;
      const stream = rewriteEndpoint(upstream, new URL(server.url), route);
      return new Response(stream, { status, headers: answer });
    }
    if (!node?.outgoing) return new Response(webStream(upstream), { status, headers: answer });
    streamTo(node.outgoing, upstream, status, answer);
    return RESPONSE_ALREADY_SENT;
  };
  app.all("/:name", handle);
  app.all("/:name/*", handle);
  return app;
}

/**
 * The route's own path is the server's URL; a path under it is one on the server's origin. Query parameters
 * of the server's URL are kept, with the agent's added.
 */
export function upstreamUrl(serverUrl: string, rest: string[], search: string): URL {
  const base = new URL(serverUrl);
  const target = rest.length === 0 ? new URL(base) : new URL(`/${rest.join("/")}`, base.origin);
  for (const [k, v] of new URLSearchParams(search)) target.searchParams.append(k, v);
  return target;
}

/** The answer as a web stream of bytes, for callers without Node's response (tests calling `app.fetch`). */
function webStream(upstream: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      upstream.on("data", (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
      upstream.once("end", () => controller.close());
      upstream.once("error", (err) => controller.error(err));
    },
    cancel() {
      upstream.destroy();
    },
  });
}

/**
 * The SSE transport's first event (`endpoint`) names where to POST, on the server's origin: rewritten to the
 * same path under this route, so the agent's POSTs come back through the control plane too. Every other byte
 * passes as it comes.
 */
export function rewriteEndpoint(upstream: IncomingMessage, server: URL, route: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let head = "";
  let rewritten = false;
  return new ReadableStream({
    start(controller) {
      upstream.on("data", (chunk: Buffer) => {
        if (rewritten) return controller.enqueue(new Uint8Array(chunk));
        head += chunk.toString("utf8");
        const end = head.search(/\r?\n\r?\n/);
        if (end < 0 && head.length < 64 * 1024) return;
        rewritten = true;
        const text = head.replace(/^(event:\s*endpoint\r?\ndata:\s*)(.*)$/m, (_all, prefix: string, data: string) => {
          const at = new URL(data.trim(), server);
          return at.origin === server.origin ? `${prefix}${route}${at.pathname}${at.search}` : `${prefix}${data}`;
        });
        controller.enqueue(encoder.encode(text));
      });
      upstream.once("end", () => {
        if (!rewritten && head) controller.enqueue(encoder.encode(head));
        controller.close();
      });
      upstream.once("error", (err) => controller.error(err));
    },
    cancel() {
      upstream.destroy();
    },
  });
}
