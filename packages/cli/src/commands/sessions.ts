/**
 * @module sessions — `airlock ls`, `show`, `cancel`, `rm` and `agents`: the sessions and agents of the server.
 */
import type { SessionStatus, SessionView } from "@airlock/client";
import { type CommandSpec, type Parsed, UsageError, int, oneOf, sessionId } from "../args.ts";
import type { Context } from "../context.ts";
import { exitCodes } from "../exit.ts";
import { type Colors, colorsFor } from "../render/colors.ts";

const statuses: SessionStatus[] = ["provisioning", "ready", "running", "awaiting_input", "paused", "stopping", "stopped", "failed"];

export const lsSpec: CommandSpec = {
  name: "ls",
  summary: "List sessions, newest first.",
  usage: "[options]",
  options: {
    status: { type: "string", short: "s", value: "STATUS", description: `only sessions in STATUS (${statuses.join(", ")})` },
    limit: { type: "string", short: "n", value: "N", description: "at most N sessions (default 50)" },
    json: { type: "boolean", description: "NDJSON: one session (the API's object) per line" },
  },
};

export const showSpec: CommandSpec = {
  name: "show",
  summary: "Show a session: status, agent, usage, pending interactions.",
  usage: "[options] ID",
  options: { json: { type: "boolean", description: "the API's session object as JSON" } },
};

export const cancelSpec: CommandSpec = { name: "cancel", summary: "Cancel the running turn of a session.", usage: "ID", options: {} };
export const rmSpec: CommandSpec = {
  name: "rm",
  summary: "Delete sessions: stop the agent, destroy the sandbox (the log stays).",
  usage: "[options] ID...",
  options: { purge: { type: "boolean", description: "remove the sessions' logs and records too: they are gone for good" } },
};
export const agentsSpec: CommandSpec = {
  name: "agents",
  summary: "List the agents this server offers, and why one is not available.",
  usage: "[options]",
  options: { json: { type: "boolean", description: "NDJSON: one agent per line" } },
};

export async function ls(ctx: Context, p: Parsed): Promise<number> {
  const status = oneOf(p, "status", statuses, "ls");
  const limit = int(p, "limit", "ls") ?? 50;
  if (limit < 1) throw new UsageError("--limit must be at least 1", "ls");
  const found: SessionView[] = [];
  for await (const s of ctx.client.sessions.all({ ...(status ? { status } : {}), limit: Math.min(limit, 200) })) {
    found.push(s);
    if (found.length >= limit) break;
  }
  if (p.values.json) {
    for (const s of found) ctx.stdout.write(`${JSON.stringify(s)}\n`);
    return exitCodes.ok;
  }
  if (found.length === 0) {
    ctx.stdout.write(status ? `no ${status} sessions\n` : 'no sessions yet; start one with: airlock run "task"\n');
    return exitCodes.ok;
  }
  const c = colorsFor(ctx.stdout);
  const rows = found.map((s) => [s.id, paintStatus(s.status, c), s.agent, `$${s.usage.costUsd.toFixed(2)}`, ago(s.createdAt), s.metadata.title ?? ""]);
  table(ctx, ["ID", "STATUS", "AGENT", "COST", "CREATED", "TITLE"], rows);
  return exitCodes.ok;
}

export async function show(ctx: Context, p: Parsed): Promise<number> {
  const s = await ctx.client.sessions.get(sessionId(p, "show"));
  if (p.values.json) {
    ctx.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return exitCodes.ok;
  }
  const c = colorsFor(ctx.stdout);
  const lines = [
    `${c.bold(s.id)}  ${paintStatus(s.status, c)}${s.statusReason ? c.dim(` (${s.statusReason})`) : ""}${s.final ? c.dim(" · final") : ""}`,
    ...(s.metadata.title ? [`title     ${s.metadata.title}`] : []),
    `agent     ${s.agent}${s.model ? ` (${s.model})` : ""} on ${s.provider}, permission mode ${s.permissionMode}`,
    `usage     ${s.usage.inputTokens} in · ${s.usage.outputTokens} out · $${s.usage.costUsd.toFixed(4)}${s.budgetUsd !== null ? ` of $${s.budgetUsd}` : ""}`,
    `events    ${s.lastSeq}${s.queuedTurns ? ` · ${s.queuedTurns} queued turn(s)` : ""}`,
    `created   ${s.createdAt} (${ago(s.createdAt)})`,
    ...(s.idleDeadline ? [`idles at  ${s.idleDeadline}`] : []),
  ];
  for (const i of s.pendingInteractions) {
    const request = i.request as { toolCall?: { title?: string }; options?: Array<{ optionId: string; name: string }>; prompt?: string };
    const what = i.kind === "permission" ? `${request.toolCall?.title ?? "a tool call"}: ${(request.options ?? []).map((o) => o.optionId).join(" | ")}` : (request.prompt ?? "a question");
    lines.push(c.yellow(`pending   ${i.id} ${i.kind} — ${what}`), c.dim(`          airlock answer ${s.id} ${i.id} ${i.kind === "permission" ? (request.options?.[0]?.optionId ?? "OPTION") : "ANSWER"}`));
  }
  ctx.stdout.write(`${lines.join("\n")}\n`);
  return exitCodes.ok;
}

export async function cancel(ctx: Context, p: Parsed): Promise<number> {
  const id = sessionId(p, "cancel");
  await ctx.client.sessions.cancel(id);
  ctx.stdout.write(`cancelling the running turn of ${id}\n`);
  return exitCodes.ok;
}

export async function rm(ctx: Context, p: Parsed): Promise<number> {
  if (p.positionals.length === 0) throw new UsageError("give the id of each session to delete", "rm");
  const ids = p.positionals.map((_, i) => sessionId(p, "rm", i));
  for (const id of ids) {
    await ctx.client.sessions.delete(id, { purge: p.values.purge === true });
    ctx.stdout.write(`${p.values.purge ? "purged" : "deleted"} ${id}\n`);
  }
  return exitCodes.ok;
}

export async function agents(ctx: Context, p: Parsed): Promise<number> {
  const list = await ctx.client.agents();
  if (p.values.json) {
    for (const a of list) ctx.stdout.write(`${JSON.stringify(a)}\n`);
    return exitCodes.ok;
  }
  const c = colorsFor(ctx.stdout);
  table(ctx, ["AGENT", "AVAILABLE", "ABOUT"], list.map((a) => [a.name, a.available ? c.green("yes") : c.red("no"), a.available ? a.title : `${a.reason ?? ""}${a.fix ? ` — ${a.fix}` : ""}`]));
  return exitCodes.ok;
}

function table(ctx: Context, header: string[], rows: string[][]): void {
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "").length;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i]))));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell + " ".repeat(widths[i] - visible(cell)))).join("  ");
  ctx.stdout.write(`${[line(header), ...rows.map(line)].join("\n")}\n`);
}

function paintStatus(status: SessionStatus, c: Colors): string {
  if (status === "failed") return c.red(status);
  if (status === "running" || status === "provisioning") return c.yellow(status);
  if (status === "awaiting_input") return c.magenta(status);
  if (status === "ready") return c.green(status);
  return c.dim(status);
}

function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.round(s)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}
