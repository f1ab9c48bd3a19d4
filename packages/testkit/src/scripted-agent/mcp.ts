/**
 * @module mcp — `mcp <server> <tool> <json>`: calls a tool of one of the session's MCP servers (from
 * `session/new`) with the official SDK's client, shown as a tool call named `mcp__<server>__<tool>`.
 * `mcp <server>` lists its tools; a bare `mcp` says the servers exactly as `session/new` gave them.
 */
import type { McpServer } from "@agentclientprotocol/sdk";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { type Behaviour, fenced, newToolCallId, reply } from "./turn.ts";

export const mcp: Behaviour = async (turn) => {
  const [serverName, tool] = turn.args;
  if (!serverName) return reply(turn, `MCP servers from session/new:\n${fenced(JSON.stringify(turn.mcpServers, null, 2))}`);
  const server = turn.mcpServers.find((s) => s.name === serverName);
  if (!server) return reply(turn, `There is no MCP server "${serverName}" in this session (it has: ${turn.mcpServers.map((s) => s.name).join(", ") || "none"}).`);
  let args: Record<string, unknown> = {};
  const json = turn.rest.replace(/^\S+\s*/, "").replace(/^\S+\s*/, "");
  if (json) {
    try {
      args = JSON.parse(json);
    } catch {
      return reply(turn, `The arguments must be JSON: ${json}`);
    }
  }
  const client = new Client({ name: "airlock-scripted", version: "1.0.0" });
  const toolCallId = newToolCallId();
  const title = `mcp__${serverName}__${tool ?? "list_tools"}`;
  await turn.update({ sessionUpdate: "tool_call", toolCallId, title, kind: "other", status: "in_progress", rawInput: args });
  try {
    await client.connect(transportOf(server, turn.cwd));
    if (!tool) {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name).join(", ");
      await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "completed", content: [{ type: "content", content: { type: "text", text: names } }] });
      return reply(turn, `${serverName} has these tools: ${names}`);
    }
    const result = await client.callTool({ name: tool, arguments: args });
    const text = (result.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? "").join("\n");
    await turn.update({
      sessionUpdate: "tool_call_update",
      toolCallId,
      status: result.isError ? "failed" : "completed",
      rawOutput: result,
      content: [{ type: "content", content: { type: "text", text } }],
    });
    return reply(turn, `${title} answered: ${text}`);
  } catch (err) {
    const message = (err as Error).message;
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "failed", content: [{ type: "content", content: { type: "text", text: message } }] });
    return reply(turn, `${title} failed: ${message}`);
  } finally {
    await client.close().catch(() => {});
  }
};

function transportOf(server: McpServer, cwd: string): Transport {
  if ("command" in server) {
    const env = Object.fromEntries(server.env.map((e) => [e.name, e.value]));
    return new StdioClientTransport({ command: server.command, args: server.args, env: { ...inherited(), ...env }, cwd, stderr: "ignore" });
  }
  const headers = Object.fromEntries(server.headers.map((h) => [h.name, h.value]));
  if (server.type === "sse") return new SSEClientTransport(new URL(server.url), { requestInit: { headers }, eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) } });
  return new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers } });
}

/** The agent's PATH and HOME, so a server's command is found the way the launch check found it. */
function inherited(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "LANG"]) if (process.env[k]) out[k] = process.env[k]!;
  return out;
}
