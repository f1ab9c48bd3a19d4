/**
 * @module purge — what both stores answer when a purge was asked for and their UPDATE changed no row.
 */
import { type AirlockError, conflict, finalStatuses, notFound } from "@airlock/protocol";

/** The session's row as `purgeState` reads it (undefined: no such session). */
export interface PurgeState {
  status: string;
  purged_at: number | null;
}

/** Why a session cannot be purged; null when it is already being purged (a purge is idempotent). */
export function purgeRefusal(sessionId: string, state: PurgeState | undefined): AirlockError | null {
  if (!state) return notFound(`no session ${sessionId}`);
  if (state.purged_at !== null) return null;
  if (!(finalStatuses as readonly string[]).includes(state.status)) return conflict(`the session is ${state.status}; stop it before purging it`);
  return conflict("the session's sandbox is kept; remove it before purging the session");
}
