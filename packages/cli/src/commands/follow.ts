/**
 * @module follow — the live part of `run`, `prompt` and `attach`: the log shown as it comes (human layout or
 * `--json` NDJSON), interactions asked inline or left to others, Ctrl-C, and the exit code.
 *
 * Ctrl-C: for a turn the CLI is waiting on, the first press cancels the turn and the second detaches; when only
 * following (`attach`), the first detaches. Detaching leaves the session running: `airlock attach` finds it.
 */
import { AirlockApiError, type AirlockEvent, type Session } from "@airlock/client";
import type { Context } from "../context.ts";
import { exitCodeOfTurn, exitCodes } from "../exit.ts";
import { InteractionDesk } from "../interact/desk.ts";
import type { Approve } from "../interact/policy.ts";
import { TtyPrompter } from "../interact/tty-prompt.ts";
import { colorsFor } from "../render/colors.ts";
import { HumanRenderer } from "../render/human.ts";
import { watch } from "../watch.ts";

export interface FollowOptions {
  after: number;
  /** The turn whose end ends the command; without one, the session's end does. */
  turnId?: string;
  json: boolean;
  approve: Approve;
  thinking: "collapsed" | "full";
}

export interface View {
  show(event: AirlockEvent): void;
  note(text: string): void;
  finish(): void;
}

/** `--json`: stdout carries only the API's event objects, one per line; notes go to stderr. */
export function makeView(ctx: Context, json: boolean, thinking: "collapsed" | "full" = "collapsed"): View {
  if (json) {
    return {
      show: (event) => ctx.stdout.write(`${JSON.stringify(event)}\n`),
      note: (text) => ctx.stderr.write(`${text}\n`),
      finish: () => {},
    };
  }
  const renderer = new HumanRenderer(ctx.stdout, { colors: colorsFor(ctx.stdout), thinking });
  return { show: (event) => renderer.event(event), note: (text) => renderer.note(text), finish: () => renderer.finish() };
}

export async function followSession(ctx: Context, session: Session, options: FollowOptions): Promise<number> {
  const view = makeView(ctx, options.json, options.thinking);
  const abort = new AbortController();
  let presses = 0;
  let detached = false;
  const interrupt = () => {
    presses++;
    if (options.turnId && presses === 1) {
      view.note("cancelling the turn… (Ctrl-C again to detach)");
      session.cancel().catch((err) => {
        if (AirlockApiError.is(err) && err.status === 409) view.note("no turn is running yet; Ctrl-C again to detach");
        else view.note(`could not cancel: ${(err as Error).message}`);
      });
      return;
    }
    detached = true;
    abort.abort();
  };
  const interactive = !options.json && Boolean(ctx.stdin.isTTY) && Boolean(ctx.stdout.isTTY);
  const prompter = interactive ? new TtyPrompter(ctx.stdin, ctx.stdout, colorsFor(ctx.stdout), interrupt) : undefined;
  // Output while a prompt is on the screen goes above it.
  const show = prompter ? (event: AirlockEvent) => prompter.interleave(() => view.show(event)) : view.show;
  const note = prompter ? (text: string) => prompter.interleave(() => view.note(text)) : view.note;
  const desk = new InteractionDesk({ session, approve: options.approve, prompter, note, warn: (text) => ctx.stderr.write(`${text}\n`) });
  process.on("SIGINT", interrupt);
  try {
    const watched = await watch({ session, after: options.after, turnId: options.turnId, show, note, desk, signal: abort.signal });
    view.finish();
    if (detached) {
      view.note(`detached; the session goes on. Follow it again with: airlock attach ${session.id} --after ${watched.lastSeq}`);
      return exitCodes.detached;
    }
    if (watched.turn) {
      const code = exitCodeOfTurn(watched.turn);
      if (options.json) {
        const { turnId, stopReason, error, text, usage } = watched.turn;
        ctx.stdout.write(`${JSON.stringify({ type: "result", sessionId: session.id, turnId, stopReason, ...(error ? { error } : {}), text, usage, lastSeq: watched.lastSeq, exitCode: code })}\n`);
      }
      return code;
    }
    const final = watched.final;
    if (options.turnId) view.note(`the session ended (${final?.status}${final?.statusReason ? `: ${final.statusReason}` : ""}) before the turn did`);
    if (options.json && final) ctx.stdout.write(`${JSON.stringify({ type: "result", sessionId: session.id, status: final.status, statusReason: final.statusReason, usage: final.usage, lastSeq: watched.lastSeq })}\n`);
    return final?.status === "failed" || options.turnId ? exitCodes.failed : exitCodes.ok;
  } finally {
    process.off("SIGINT", interrupt);
    desk.close();
  }
}
