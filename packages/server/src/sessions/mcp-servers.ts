/**
 * @module mcp-servers — a session's MCP servers as its agent gets them, and as the API shows them.
 *
 * stdio servers run inside the sandbox, started by the agent: they go to `session/new` as given, and the
 * agent's launch first checks that each command exists there (a missing one fails the session with a message
 * naming the server and the command, instead of an agent that silently lacks its tools).
 *
 * HTTP and SSE servers are reached through the control plane: the agent gets a URL of the session's route
 * (`/gateway/mcp/<name>`, on the sandbox's loopback forwarder in local sandboxes) with the session's gateway
 * token, and the control plane adds the server's own headers. An MCP token never enters the sandbox.
 */
import { type AgentLaunch, type McpServer, type McpServerView, AirlockError } from "@airlock/protocol";
import type { AgentDefinition } from "../agents/registry.ts";

/** What ACP's `session/new` takes in `mcpServers`. */
export type AcpMcpServer =
  | { name: string; command: string; args: string[]; env: Array<{ name: string; value: string }> }
  | { type: "http" | "sse"; name: string; url: string; headers: Array<{ name: string; value: string }> };

/** The error code the launch check answers `initialize` with when a stdio server's command is missing. */
export const missingCommandCode = "mcp_command_missing";

export const isRemote = (s: McpServer): s is Extract<McpServer, { url: string }> => "url" in s;

/** The servers as `session/new` and `session/load` pass them: remote ones point at the session's route. */
export function acpMcpServers(servers: McpServer[], route: (() => { baseUrl: string; token: string }) | null): AcpMcpServer[] {
  return servers.map((s) => {
    if (!isRemote(s)) return { name: s.name, command: s.command, args: s.args, env: s.env };
    if (!route) throw new AirlockError("bad_request", `MCP server "${s.name}" is reached through the control plane, which this sandbox cannot reach`);
    const { baseUrl, token } = route();
    return { type: s.type, name: s.name, url: `${baseUrl}/${encodeURIComponent(s.name)}`, headers: [{ name: "Authorization", value: `Bearer ${token}` }] };
  });
}

/** The servers as the session view shows them: names of headers and env variables, never their values. */
export function mcpServersView(servers: McpServer[] | undefined): McpServerView[] {
  return (servers ?? []).map((s) =>
    isRemote(s)
      ? { type: s.type, name: s.name, url: s.url, headers: s.headers.map((h) => h.name) }
      : { type: "stdio", name: s.name, command: s.command, args: s.args, env: s.env.map((e) => e.name) },
  );
}

/** The transports an agent takes; custom agents are not known in advance, so all are let through. */
export function mcpTransports(agent: AgentDefinition): { stdio: boolean; http: boolean; sse: boolean } {
  return agent.mcp ?? { stdio: true, http: true, sse: true };
}

/** 400 naming the field when the agent cannot take one of the servers. */
export function checkMcpServers(agent: AgentDefinition, servers: McpServer[]): void {
  const takes = mcpTransports(agent);
  servers.forEach((s, i) => {
    const transport = isRemote(s) ? s.type : "stdio";
    if (!takes[transport]) {
      const accepted = Object.entries(takes).filter(([, ok]) => ok).map(([t]) => t);
      throw new AirlockError("bad_request", `invalid mcpServers.${i}: agent "${agent.name}" does not take ${transport} MCP servers (it takes: ${accepted.join(", ") || "none"})`);
    }
  });
}

/**
 * Wraps the agent's argv so that, inside the sandbox and before the agent starts, each stdio server's command
 * is looked up (on PATH, or as a path from the workspace). When one is missing, the wrapper answers the
 * control plane's `initialize` with an error naming it, which fails the session, and the agent never starts.
 */
export function withCommandCheck(launch: AgentLaunch, servers: McpServer[]): AgentLaunch {
  const stdio = servers.filter((s) => !isRemote(s));
  if (stdio.length === 0) return launch;
  const pairs = stdio.flatMap((s) => {
    const message = `MCP server "${s.name}": the command "${s.command}" does not exist in the sandbox (not on its PATH, or not an executable file); install it in the sandbox or fix \`command\``;
    const reply = { jsonrpc: "2.0", id: "airlock:initialize", error: { code: -32603, message, data: { airlock: missingCommandCode, server: s.name, command: s.command } } };
    return [s.command, JSON.stringify(reply)];
  });
  return { ...launch, argv: ["/bin/sh", "-c", checkScript, "airlock-mcp-check", String(stdio.length), ...pairs, "--", ...launch.argv] };
}

// Commands with a slash are paths (from the workspace, the agent's cwd); others are looked up on PATH. The
// first missing one is reported; the wrapper then waits for stdin to close, so the reply is read before the
// process ends (an exit first would look like an agent crash).
const checkScript = `n=$1; shift; reply=
while [ "$n" -gt 0 ]; do
  case "$1" in
    */*) [ -f "$1" ] && [ -x "$1" ] || { [ -n "$reply" ] || reply=$2; } ;;
    *) command -v -- "$1" >/dev/null 2>&1 || { [ -n "$reply" ] || reply=$2; } ;;
  esac
  shift 2; n=$((n - 1))
done
shift
if [ -n "$reply" ]; then printf '%s\\n' "$reply"; exec cat >/dev/null; fi
exec "$@"`;
