/**
 * @module turn — what one turn came to, folded from its events: a pure function of the log, so `run()` and
 * anything replaying a stored log get the same answer.
 */
import type { AirlockEvent, EventDataMap, Usage } from "@airlock/protocol";

/** How a turn ended, as `session.run()` resolves it. */
export interface TurnResult {
  turnId: string;
  /** ACP's stop reason (`end_turn`, `cancelled`, `max_tokens`, `max_turn_requests`, `refusal`), or `error`. */
  stopReason: EventDataMap["turn.ended"]["stopReason"];
  /** The error that ended the turn, when `stopReason` is `error`. */
  error?: string;
  /** The agent's messages of the turn, joined. */
  text: string;
  /** LLM usage charged to the turn (the sum of its `usage` events). */
  usage: Usage;
  /** `error` events of the turn (e.g. `budget_exceeded` from the LLM gateway), in order. */
  errors: Array<EventDataMap["error"]>;
  /** Every event of the turn, in seq order. */
  events: AirlockEvent[];
}

/** Folds a turn's events as they come; `result` is set once its `turn.ended` arrived. */
export class TurnCollector {
  private readonly events: AirlockEvent[] = [];
  private text = "";
  private readonly usage: Usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  private readonly errors: Array<EventDataMap["error"]> = [];
  /** The result, once the turn ended. */
  result: TurnResult | null = null;

  constructor(readonly turnId: string) {}

  /** Takes any event of the log; those of other turns are ignored. Returns true once the turn has ended. */
  add(event: AirlockEvent): boolean {
    if (this.result || event.turnId !== this.turnId) return this.result !== null;
    this.events.push(event);
    if (event.type === "update" && event.data.sessionUpdate === "agent_message_chunk" && event.data.content.type === "text") this.text += event.data.content.text;
    else if (event.type === "usage") {
      this.usage.inputTokens += event.data.inputTokens;
      this.usage.outputTokens += event.data.outputTokens;
      this.usage.costUsd += event.data.costUsd;
    } else if (event.type === "error") this.errors.push(event.data);
    else if (event.type === "turn.ended") {
      this.result = {
        turnId: this.turnId,
        stopReason: event.data.stopReason,
        ...(event.data.error !== undefined ? { error: event.data.error } : {}),
        text: this.text,
        usage: { ...this.usage },
        errors: this.errors,
        events: this.events,
      };
    }
    return this.result !== null;
  }
}
