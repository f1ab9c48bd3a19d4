/**
 * @module http — the test MCP server over Streamable HTTP (and the older SSE transport at `/sse`), on
 * loopback, answering only requests that carry its bearer token. It records the calls and the requests it
 * got (their headers), so a test can see what reached it and what did not.
 */
import { type IncomingMessage, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { type TestMcpCall, createTestMcpServer } from "./tools.ts";

export interface TestMcpHttpServer {
  /** The Streamable HTTP endpoint (`.../mcp`). */
  url: string;
  /** The SSE transport's endpoint (`.../sse`). */
  sseUrl: string;
  calls: TestMcpCall[];
  /** Every request's method, path and headers, whether or not it was let in. */
  requests: Array<{ method: string; path: string; headers: IncomingMessage["headers"] }>;
  close(): Promise<void>;
}

export async function startTestMcpHttpServer(options: { name?: string; token: string }): Promise<TestMcpHttpServer> {
  const name = options.name ?? "http-test";
  const calls: TestMcpCall[] = [];
  const requests: TestMcpHttpServer["requests"] = [];
  const sse = new Map<string, SSEServerTransport>();
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push({ method: req.method ?? "", path, headers: req.headers });
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" }).end(JSON.stringify({ error: "a valid bearer token is required" }));
      return;
    }
    void (async () => {
      if (path === "/mcp") {
        // Stateless: a server and a transport per request.
        const server = createTestMcpServer(name, (c) => calls.push(c));
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        res.on("close", () => void transport.close().then(() => server.close()));
        await server.connect(transport);
        await transport.handleRequest(req, res);
      } else if (path === "/sse" && req.method === "GET") {
        const transport = new SSEServerTransport("/messages", res);
        sse.set(transport.sessionId, transport);
        res.on("close", () => sse.delete(transport.sessionId));
        await createTestMcpServer(name, (c) => calls.push(c)).connect(transport);
      } else if (path === "/messages" && req.method === "POST") {
        const transport = sse.get(new URL(req.url ?? "/", "http://x").searchParams.get("sessionId") ?? "");
        if (!transport) return void res.writeHead(404).end("no such SSE session");
        await transport.handlePostMessage(req, res);
      } else {
        res.writeHead(404).end();
      }
    })().catch((err) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url: `${base}/mcp`,
    sseUrl: `${base}/sse`,
    calls,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
