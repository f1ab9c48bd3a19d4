/**
 * @module stdio — the test MCP server over stdio, bundled to dist/mcp-server.mjs so a sandbox needs only Node
 * and that file: `node mcp-server.mjs [NAME]`.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createTestMcpServer } from "./tools.ts";

await createTestMcpServer(process.argv[2] ?? "stdio-test").connect(new StdioServerTransport());
