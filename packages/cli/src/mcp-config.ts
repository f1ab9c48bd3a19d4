/**
 * @module mcp-config — `airlock run --mcp FILE`: the session's MCP servers from a JSON file, either in ACP's shape
 * (an array, or `{"mcpServers": [...]}`) or in the `.mcp.json` shape editors and Claude Code use
 * (`{"mcpServers": {"name": {command, args, env: {K: V}} | {type?, url, headers: {K: V}}}}`). The server checks
 * the result; this only turns one shape into the other.
 */
import { readFileSync } from "node:fs";
import { UsageError } from "./args.ts";

export type McpServerInput = Record<string, unknown>;

export function readMcpConfig(path: string): McpServerInput[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UsageError(`--mcp ${path}: not a readable JSON file (${(err as Error).message})`, "run");
  }
  return mcpServersOf(parsed, path);
}

export function mcpServersOf(config: unknown, source = "the MCP config"): McpServerInput[] {
  const servers = Array.isArray(config) ? config : (config as { mcpServers?: unknown } | null)?.mcpServers;
  if (Array.isArray(servers)) return servers as McpServerInput[];
  if (!servers || typeof servers !== "object") throw new UsageError(`${source}: give an array of servers or {"mcpServers": ...}`, "run");
  return Object.entries(servers as Record<string, Record<string, unknown>>).map(([name, s]) => {
    const pairs = (o: unknown) => Object.entries((o ?? {}) as Record<string, unknown>).map(([k, v]) => ({ name: k, value: String(v) }));
    if (typeof s?.url === "string") return { type: s.type === "sse" ? "sse" : "http", name, url: s.url, headers: pairs(s.headers) };
    return { name, command: s?.command, args: Array.isArray(s?.args) ? s.args : [], env: pairs(s?.env) };
  });
}
