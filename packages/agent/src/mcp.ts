/**
 * @module mcp — the session's MCP servers (from `session/new` / `session/load`) as tools of the agent, named
 * `mcp__<server>__<tool>`, called with the official SDK's client. stdio servers are started here, in the
 * sandbox; HTTP and SSE servers are Airlock's per-session route (in a local sandbox, over the gateway socket
 * the agent already speaks to). Servers are connected on the first prompt that needs tools, once per session;
 * one that cannot be reached is reported and left out, the others still serve.
 */
import type { McpServer } from "@agentclientprotocol/sdk";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { z } from "zod";
import { socketFetch } from "./socket-fetch.ts";
import { type Tool, ToolError, clip } from "./tools/index.ts";

const maxOutputChars = 40_000;

export interface McpTools {
  tools: Tool[];
  /** Servers that could not be reached, with why: said to the user once. */
  problems: string[];
  close(): Promise<void>;
}

/** Tool names the Messages API takes: letters, digits, `_` and `-`, at most 64. */
export function mcpToolName(server: string, tool: string): string {
  return `mcp__${server}__${tool}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
}

export async function connectMcpServers(servers: McpServer[], options: { cwd: string; gatewaySocket?: string }): Promise<McpTools> {
  const clients: Client[] = [];
  const tools: Tool[] = [];
  const problems: string[] = [];
  await Promise.all(
    servers.map(async (server) => {
      const client = new Client({ name: "airlock-agent", version: "1.0.0" });
      try {
        await client.connect(transportOf(server, options));
        clients.push(client);
        const listed = await client.listTools();
        for (const t of listed.tools) tools.push(mcpTool(client, server.name, t));
      } catch (err) {
        problems.push(`MCP server "${server.name}" could not be reached: ${(err as Error).message}`);
        await client.close().catch(() => {});
      }
    }),
  );
  return { tools, problems, close: async () => void (await Promise.all(clients.map((c) => c.close().catch(() => {})))) };
}

function transportOf(server: McpServer, options: { cwd: string; gatewaySocket?: string }): Transport {
  if ("command" in server) {
    const env = { ...getDefaultEnvironment(), ...Object.fromEntries(server.env.map((e) => [e.name, e.value])) };
    return new StdioClientTransport({ command: server.command, args: server.args, env, cwd: options.cwd, stderr: "ignore" });
  }
  const headers = Object.fromEntries(server.headers.map((h) => [h.name, h.value]));
  // In a local sandbox the route is the gateway socket (the loopback address in the URL has no listener).
  const fetch = options.gatewaySocket ? socketFetch(options.gatewaySocket) : undefined;
  const url = new URL(server.url);
  if (server.type === "sse") return new SSEClientTransport(url, { requestInit: { headers }, ...(fetch ? { fetch } : {}) });
  return new StreamableHTTPClientTransport(url, { requestInit: { headers }, ...(fetch ? { fetch } : {}) });
}

interface ListedTool {
  name: string;
  description?: string;
  inputSchema: { type: "object"; [k: string]: unknown };
}

/** One tool of an MCP server as a tool of the agent; the server checks its input against its own schema. */
function mcpTool(client: Client, server: string, listed: ListedTool): Tool {
  const name = mcpToolName(server, listed.name);
  return {
    name,
    description: `${listed.description ?? listed.name} (tool "${listed.name}" of the MCP server "${server}")`,
    input: z.record(z.string(), z.unknown()),
    inputSchema: listed.inputSchema,
    kind: "other",
    // A server's tool may change anything it reaches: it asks as a command does.
    needs: "execute",
    title: () => name,
    async run(input, ctx) {
      await ctx.permit();
      let result: Awaited<ReturnType<Client["callTool"]>>;
      try {
        result = await client.callTool({ name: listed.name, arguments: input }, undefined, { signal: ctx.signal });
      } catch (err) {
        throw new ToolError(`${name} failed: ${(err as Error).message}`);
      }
      const blocks = (result.content ?? []) as Array<{ type: string; text?: string; mimeType?: string }>;
      const text = blocks.map((b) => (b.type === "text" ? (b.text ?? "") : `[${b.type}${b.mimeType ? ` ${b.mimeType}` : ""}]`)).join("\n");
      const output = clip(text || JSON.stringify(result.structuredContent ?? {}), maxOutputChars);
      return { output, rawOutput: result, ...(result.isError ? { isError: true } : {}) };
    },
  };
}
