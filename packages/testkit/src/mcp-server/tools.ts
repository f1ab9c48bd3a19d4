/**
 * @module tools — a small MCP server made with the official SDK, for tests: tools `echo` ({text}) and `add`
 * ({a, b}); `whoami` says the server's name and, for the HTTP server, which request headers it was sent
 * (names only), so a test can see what reached it.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

export interface TestMcpCall {
  tool: string;
  arguments: Record<string, unknown>;
}

export function createTestMcpServer(name: string, onCall?: (call: TestMcpCall) => void): Server {
  const server = new Server({ name, version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      { name: "echo", description: "Says the text back", inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] } },
      { name: "add", description: "Adds two numbers", inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] } },
      { name: "whoami", description: "Names this server", inputSchema: { type: "object", properties: {} } },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    onCall?.({ tool: request.params.name, arguments: args });
    const text = (t: string) => ({ content: [{ type: "text" as const, text: t }] });
    switch (request.params.name) {
      case "echo":
        return text(`${name} echoes: ${String(args.text)}`);
      case "add":
        return text(String(Number(args.a) + Number(args.b)));
      case "whoami":
        return text(`I am ${name} (pid ${process.pid})`);
      default:
        return { ...text(`unknown tool ${request.params.name}`), isError: true };
    }
  });
  return server;
}
