/**
 * @module run — `airlock run "task"`: a new session (seeded from a folder or a git URL), the task sent to it, and
 * the conversation followed live until the turn ends; and `airlock prompt ID "text"`, the same for a session
 * that exists.
 */
import type { CreateSession } from "@airlock/client";
import { type CommandSpec, type Parsed, UsageError, oneOf, sessionId, str } from "../args.ts";
import type { Context } from "../context.ts";
import { exitCodes } from "../exit.ts";
import { type Approve, approvals } from "../interact/policy.ts";
import { readMcpConfig } from "../mcp-config.ts";
import { readSeed } from "../workspace.ts";
import { followSession } from "./follow.ts";

const followOptions = {
  json: { type: "boolean", description: "NDJSON on stdout: the API's events, then a final `result` line" },
  approve: { type: "string", value: "all|edits|none", description: "answer permission requests by policy (none: never; the rest is asked inline on a terminal, else waits)" },
  detach: { type: "boolean", short: "d", description: "send and exit at once, printing the session id; the session goes on" },
  thinking: { type: "boolean", description: "show the agent's thinking in full (dimmed) instead of one line per thought" },
} as const;

const exitCodesText = `exit codes: 0 the turn ended normally, 1 failed, 2 bad usage, 3 cancelled, 4 budget or limit reached,
5 refused by the model, 130 detached with Ctrl-C (the session goes on).
Ctrl-C once cancels the turn, twice detaches.`;

export const runSpec: CommandSpec = {
  name: "run",
  summary: "Start a session, send it TASK, and follow the agent live until the turn ends.",
  usage: "[options] TASK",
  options: {
    agent: { type: "string", short: "a", value: "NAME", description: "the agent (see `airlock agents`; default $AIRLOCK_AGENT, else airlock)" },
    provider: { type: "string", short: "p", value: "NAME", description: "the sandbox provider (local, e2b; default: the server's)" },
    model: { type: "string", short: "m", value: "MODEL", description: "the agent's model" },
    mode: { type: "string", value: "ask|acceptEdits|auto", description: "permission mode (default ask)" },
    workspace: { type: "string", short: "w", value: "DIR", description: "upload DIR's files (respecting .gitignore) as the workspace" },
    git: { type: "string", value: "URL", description: "clone URL as the workspace (the sandbox needs network)" },
    budget: { type: "string", value: "USD", description: "the session's LLM budget in USD" },
    env: { type: "string", value: "KEY=VALUE", multiple: true, description: "an environment variable for the agent (repeatable)" },
    "secret-env": { type: "string", value: "KEY=SECRET", multiple: true, description: "an environment variable set from the tenant's secret SECRET (repeatable; see airlock secrets)" },
    network: { type: "boolean", description: "give the sandbox network access" },
    mcp: { type: "string", value: "FILE", description: "MCP servers from a JSON file (ACP's shape, or .mcp.json's {\"mcpServers\": {name: ...}})" },
    rm: { type: "boolean", description: "delete the session (and its sandbox) once the turn ended" },
    ...followOptions,
  },
  details: `examples:
  airlock run --agent scripted "write notes.md hello"
  airlock run -w . "fix the failing test" --approve edits
  airlock run --json "summarize the README" | jq -c 'select(.type == "result")'

${exitCodesText}`,
};

export const promptSpec: CommandSpec = {
  name: "prompt",
  summary: "Send TEXT to a session and follow it until that turn ends (queued if a turn is running).",
  usage: "[options] ID TEXT",
  options: followOptions,
  details: exitCodesText,
};

export async function run(ctx: Context, p: Parsed): Promise<number> {
  const task = p.positionals.join(" ").trim();
  if (!task) throw new UsageError('give the task, e.g. airlock run "add a README"', "run");
  const dir = str(p, "workspace");
  const git = str(p, "git");
  if (dir && git) throw new UsageError("give either --workspace DIR or --git URL, not both", "run");
  const mode = oneOf(p, "mode", ["ask", "acceptEdits", "auto"] as const, "run");
  const approve = oneOf(p, "approve", approvals, "run") ?? "none";
  const budget = str(p, "budget");
  if (budget !== undefined && !(Number(budget) > 0)) throw new UsageError(`--budget must be a positive number of USD, not "${budget}"`, "run");
  const env: Record<string, string | { secret: string }> = {};
  for (const pair of (p.values.env as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env takes KEY=VALUE, not "${pair}"`, "run");
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  for (const pair of (p.values["secret-env"] as string[] | undefined) ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || eq === pair.length - 1) throw new UsageError(`--secret-env takes KEY=SECRET_NAME, not "${pair}"`, "run");
    env[pair.slice(0, eq)] = { secret: pair.slice(eq + 1) };
  }

  const body: CreateSession = {
    agent: str(p, "agent") ?? (process.env.AIRLOCK_AGENT || "airlock"),
    metadata: { title: task.slice(0, 200), client: "airlock-cli" },
  };
  if (str(p, "provider")) body.provider = str(p, "provider");
  if (str(p, "model")) body.model = str(p, "model");
  if (mode) body.permissionMode = mode;
  if (budget) body.budgetUsd = Number(budget);
  if (Object.keys(env).length) body.env = env;
  if (p.values.network) body.network = true;
  const mcp = str(p, "mcp");
  if (mcp) body.mcpServers = readMcpConfig(mcp) as CreateSession["mcpServers"];
  if (git) body.workspace = { git };
  if (dir) {
    const seed = readSeed(dir);
    if (seed.skippedBinary.length) ctx.stderr.write(`not uploaded (not text): ${seed.skippedBinary.slice(0, 5).join(", ")}${seed.skippedBinary.length > 5 ? ` and ${seed.skippedBinary.length - 5} more` : ""}\n`);
    body.workspace = { files: seed.files };
  }

  const session = await ctx.client.createSession(body);
  const { turnId } = await session.prompt(task);
  if (p.values.detach) return detachedLine(ctx, session.id, turnId, p.values.json === true);
  const code = await followSession(ctx, session, { after: 0, turnId, json: p.values.json === true, approve, thinking: p.values.thinking ? "full" : "collapsed" });
  if (p.values.rm && code !== exitCodes.detached) await session.delete();
  else if (!p.values.json && code !== exitCodes.detached) ctx.stdout.write(`\nsession ${session.id} · airlock prompt ${session.id} "…" · airlock pull ${session.id} · airlock rm ${session.id}\n`);
  return code;
}

export async function prompt(ctx: Context, p: Parsed): Promise<number> {
  const id = sessionId(p, "prompt");
  const text = p.positionals.slice(1).join(" ").trim();
  if (!text) throw new UsageError(`give the prompt's text, e.g. airlock prompt ${id} "now add tests"`, "prompt");
  const approve: Approve = oneOf(p, "approve", approvals, "prompt") ?? "none";
  const session = ctx.client.session(id);
  const { lastSeq } = await session.refresh();
  const { turnId } = await session.prompt(text);
  if (p.values.detach) return detachedLine(ctx, id, turnId, p.values.json === true);
  return followSession(ctx, session, { after: lastSeq, turnId, json: p.values.json === true, approve, thinking: p.values.thinking ? "full" : "collapsed" });
}

function detachedLine(ctx: Context, sessionId: string, turnId: string, json: boolean): number {
  ctx.stdout.write(json ? `${JSON.stringify({ type: "detached", sessionId, turnId })}\n` : `${sessionId}\n`);
  if (!json) ctx.stderr.write(`queued turn ${turnId}; follow it with: airlock attach ${sessionId}\n`);
  return exitCodes.ok;
}
