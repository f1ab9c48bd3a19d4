/**
 * @module watch — follows a session's log for `run`, `prompt` and `attach`: shows each event, hands pending
 * interactions to the desk, and stops when the awaited turn ended or the session is final. The SDK's iterator
 * resumes by itself across drops and server restarts, so this loop never sees a gap or a duplicate.
 */
import { type AirlockEvent, type Session, type SessionView, TurnCollector, type TurnResult } from "@airlock/client";
import type { InteractionDesk } from "./interact/desk.ts";

export interface WatchOptions {
  session: Session;
  /** Show events after this seq. */
  after: number;
  /** Stop once this turn ended; without one, follow until the session is final. */
  turnId?: string;
  show(event: AirlockEvent): void;
  /** The CLI's own notes (reconnecting…). */
  note(text: string): void;
  desk: InteractionDesk;
  signal: AbortSignal;
}

export interface Watched {
  /** The awaited turn, when it ended. */
  turn?: TurnResult;
  /** The session, when it became final (the log ended). */
  final?: SessionView;
  /** The last seq shown. */
  lastSeq: number;
}

export async function watch(options: WatchOptions): Promise<Watched> {
  const { session, desk, signal } = options;
  // Interactions in the backlog are handled only if still pending, once the replay caught up.
  const view = await session.refresh({ signal });
  const pending = new Set(view.pendingInteractions.map((i) => i.id));
  const liveFrom = view.lastSeq;
  if (options.after >= liveFrom) desk.goLive();
  const turn = options.turnId ? new TurnCollector(options.turnId) : null;
  let lastSeq = options.after;
  let reconnecting = false;
  const events = session.events({
    after: options.after,
    signal,
    onStatus: (status) => {
      if (status === "reconnecting" && !reconnecting) options.note("connection lost; reconnecting…");
      else if (status === "live" && reconnecting) options.note("reconnected");
      reconnecting = status === "reconnecting";
    },
  });
  for await (const event of events) {
    lastSeq = event.seq;
    // An answer given elsewhere takes its prompt off the screen before the answer is shown.
    if (event.type === "interaction.resolved") desk.resolved(event.data.interactionId);
    options.show(event);
    if (event.type === "interaction.requested" && (event.seq > liveFrom || pending.has(event.data.interactionId))) desk.requested(event);
    if (event.seq >= liveFrom) desk.goLive();
    if (turn?.add(event)) return { turn: turn.result!, lastSeq };
  }
  if (signal.aborted) return { lastSeq };
  return { final: await session.refresh(), lastSeq };
}
