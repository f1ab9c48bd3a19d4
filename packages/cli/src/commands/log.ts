/**
 * @module log — `airlock attach ID` (the log from the start or SEQ, then live, across server restarts) and
 * `airlock logs ID` (the log as it is now, without following).
 */
import { type CommandSpec, type Parsed, int, oneOf, sessionId } from "../args.ts";
import type { Context } from "../context.ts";
import { exitCodes } from "../exit.ts";
import { approvals } from "../interact/policy.ts";
import { followSession, makeView } from "./follow.ts";

export const attachSpec: CommandSpec = {
  name: "attach",
  summary: "Replay a session's log from the start (or after SEQ), then follow it live; survives server restarts.",
  usage: "[options] ID",
  options: {
    after: { type: "string", value: "SEQ", description: "start after this event seq (default 0: the whole log)" },
    json: { type: "boolean", description: "NDJSON on stdout: the API's events, exactly" },
    approve: { type: "string", value: "all|edits|none", description: "answer permission requests by policy (the rest is asked inline on a terminal)" },
    thinking: { type: "boolean", description: "show thinking in full" },
  },
  details: "It ends when the session ends (exit 0, or 1 if it failed). Ctrl-C detaches (exit 130); the session goes on.",
};

export const logsSpec: CommandSpec = {
  name: "logs",
  summary: "Print a session's log as it is now, without following it.",
  usage: "[options] ID",
  options: {
    after: { type: "string", value: "SEQ", description: "start after this event seq" },
    json: { type: "boolean", description: "NDJSON: the API's events, exactly" },
    thinking: { type: "boolean", description: "show thinking in full" },
  },
};

export async function attach(ctx: Context, p: Parsed): Promise<number> {
  const session = ctx.client.session(sessionId(p, "attach"));
  const approve = oneOf(p, "approve", approvals, "attach") ?? "none";
  return followSession(ctx, session, { after: int(p, "after", "attach") ?? 0, json: p.values.json === true, approve, thinking: p.values.thinking ? "full" : "collapsed" });
}

export async function logs(ctx: Context, p: Parsed): Promise<number> {
  const session = ctx.client.session(sessionId(p, "logs"));
  const view = makeView(ctx, p.values.json === true, p.values.thinking ? "full" : "collapsed");
  const { lastSeq } = await session.refresh();
  let after = int(p, "after", "logs") ?? 0;
  while (after < lastSeq) {
    const page = await session.readEvents({ after, limit: 1000 });
    if (page.events.length === 0) break;
    for (const event of page.events) view.show(event);
    after = page.nextAfter;
  }
  view.finish();
  return exitCodes.ok;
}
