/**
 * @module exit — the CLI's exit codes (the README lists them), and the one for a finished turn.
 */
import type { TurnResult } from "@airlock/client";

export const exitCodes = {
  /** The command did what it was asked; a turn ended normally (`end_turn`). */
  ok: 0,
  /** Something failed: the turn ended with an error, the session failed, the server refused or was unreachable. */
  failed: 1,
  /** Bad usage: unknown command or option, a missing or malformed argument. */
  usage: 2,
  /** The turn was cancelled (Ctrl-C, `airlock cancel`, the web UI). */
  cancelled: 3,
  /** A budget or a limit stopped the turn: the session's LLM budget, `max_tokens`, `max_turn_requests`. */
  limit: 4,
  /** The model refused (`refusal`). */
  refused: 5,
  /** Detached with Ctrl-C: the session goes on (128 + SIGINT, as shells report it). */
  detached: 130,
} as const;

/** The exit code of a finished turn. */
export function exitCodeOfTurn(result: Pick<TurnResult, "stopReason" | "errors">): number {
  if (result.errors.some((e) => e.code === "budget_exceeded")) return exitCodes.limit;
  switch (result.stopReason) {
    case "end_turn":
      return exitCodes.ok;
    case "cancelled":
      return exitCodes.cancelled;
    case "max_tokens":
    case "max_turn_requests":
      return exitCodes.limit;
    case "refusal":
      return exitCodes.refused;
    default:
      return exitCodes.failed;
  }
}
