import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { rewriteEndpoint, upstreamUrl } from "./mcp-proxy.ts";

describe("upstreamUrl", () => {
  it("maps the route to the server's URL and paths under it to the server's origin, keeping query parameters", () => {
    expect(upstreamUrl("https://h.example/mcp?key=1", [], "").href).toBe("https://h.example/mcp?key=1");
    expect(upstreamUrl("https://h.example/mcp?key=1", [], "?a=b").href).toBe("https://h.example/mcp?key=1&a=b");
    expect(upstreamUrl("https://h.example/base/sse", ["messages"], "?sessionId=s1").href).toBe("https://h.example/messages?sessionId=s1");
    // Dot segments cannot leave the server's origin.
    expect(upstreamUrl("https://h.example/mcp", ["..", "..", "x"], "").origin).toBe("https://h.example");
  });
});

describe("rewriteEndpoint", () => {
  it("points the SSE transport's endpoint back through the route, and passes the rest through", async () => {
    const http = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("event: endpoint\ndata: /messages?sessionId=abc\n\n");
      res.end('event: message\ndata: {"x":"/messages"}\n\n');
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    const port = (http.address() as AddressInfo).port;
    const upstream = await new Promise<import("node:http").IncomingMessage>((resolve) => {
      import("node:http").then(({ get }) => get(`http://127.0.0.1:${port}/sse`, resolve));
    });
    const text = await new Response(rewriteEndpoint(upstream, new URL(`http://127.0.0.1:${port}/sse`), "/gateway/mcp/legacy")).text();
    expect(text).toBe('event: endpoint\ndata: /gateway/mcp/legacy/messages?sessionId=abc\n\nevent: message\ndata: {"x":"/messages"}\n\n');
    http.close();
  });
});
