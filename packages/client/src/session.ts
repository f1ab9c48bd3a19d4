/**
 * @module session — a handle on one session (`airlock.session(id)`, or what `airlock.createSession` returns):
 * the session's calls without repeating its id, and the helpers of the common loop — `run(prompt)` resolving
 * with the turn's result, `interactions()` pending, `answer(...)`.
 */
import type { AirlockEvent, EventsPage, InteractionResolution, PendingInteraction, PromptAccepted, ServiceList, ServiceLog, SessionView, WorkspaceDiff, WorkspaceEntry } from "@airlock/protocol";
import { AirlockApiError } from "./errors.ts";
import type { FollowOptions, ReadEventsQuery, SubscribeOptions, Subscription } from "./follow.ts";
import type { CallOptions } from "./http.ts";
import type { AnswerInput, PromptInput, SessionsApi } from "./sessions.ts";
import { TurnCollector, type TurnResult } from "./turn.ts";

/** An interaction as `run()` hands it to `onInteraction`: the `interaction.requested` event's data. */
export type InteractionRequest = Extract<AirlockEvent, { type: "interaction.requested" }>["data"];

/** Options of `session.run()`. */
export interface RunOptions extends CallOptions {
  /** Every event of the log from the prompt on (other turns' too), in order. */
  onEvent?(event: AirlockEvent): void;
  /**
   * Decides the turn's permission requests and questions. Return an option id / `{optionId}` / `{answer}` to
   * answer, or `undefined` to leave it for someone else (the web UI, another terminal, `session.answer`): the
   * turn then waits for that answer. Without it every interaction waits for an answer given elsewhere.
   */
  onInteraction?(interaction: InteractionRequest, event: AirlockEvent): AnswerInput | undefined | Promise<AnswerInput | undefined>;
}

/** The error `run()` throws when the session ended (failed, deleted) before the turn did. */
export class SessionEndedError extends Error {
  constructor(
    readonly sessionId: string,
    readonly turnId: string,
    readonly session: SessionView,
  ) {
    super(`session ${sessionId} ended (${session.status}${session.statusReason ? `: ${session.statusReason}` : ""}) before turn ${turnId} did`);
    this.name = "SessionEndedError";
  }
}

/** One session; every method is a call of the API (see `SessionsApi` for each). */
export class Session {
  /**
   * @param id the session's id (`ses_…`)
   * @param view the session as last read (set by `create`, `refresh`, `get`); null until then
   */
  constructor(
    private readonly api: SessionsApi,
    readonly id: string,
    public view: SessionView | null = null,
  ) {}

  /** Reads the session and keeps it in `view`. */
  async refresh(options: Pick<CallOptions, "signal"> = {}): Promise<SessionView> {
    this.view = await this.api.get(this.id, options);
    return this.view;
  }

  /** Sends a prompt; queued while a turn runs. Idempotent. */
  prompt(prompt: PromptInput, options: CallOptions = {}): Promise<PromptAccepted> {
    return this.api.prompt(this.id, prompt, options);
  }

  /** Cancels the running turn. */
  cancel(options: Pick<CallOptions, "signal"> = {}): Promise<{ cancelled: boolean }> {
    return this.api.cancel(this.id, options);
  }

  /** Answers an interaction (an option id for a permission, `{answer}` for a question). Idempotent; 409 when already answered. */
  answer(interactionId: string, answer: AnswerInput, options: CallOptions = {}): Promise<InteractionResolution> {
    return this.api.answer(this.id, interactionId, answer, options);
  }

  /** The interactions waiting for an answer now, oldest first. */
  async interactions(options: Pick<CallOptions, "signal"> = {}): Promise<PendingInteraction[]> {
    return (await this.refresh(options)).pendingInteractions;
  }

  /** Pushes the idle deadline forward. */
  keepalive(options: Pick<CallOptions, "signal"> = {}): Promise<{ idleDeadline: string | null }> {
    return this.api.keepalive(this.id, options);
  }

  /** Sets, raises or (null) removes the LLM budget. */
  async updateBudget(budgetUsd: number | null, options: Pick<CallOptions, "signal"> = {}): Promise<SessionView> {
    this.view = await this.api.updateBudget(this.id, budgetUsd, options);
    return this.view;
  }

  /** Stops the agent and destroys the sandbox; the log stays (unless `purge`). */
  delete(options: Pick<CallOptions, "signal"> & { purge?: boolean } = {}): Promise<{ id: string; status: string; purged?: boolean }> {
    return this.api.delete(this.id, options);
  }

  /** A folder listing or a file of the workspace. */
  files(path = "", options: Pick<CallOptions, "signal"> = {}): Promise<WorkspaceEntry> {
    return this.api.files(this.id, path, options);
  }

  /** The session's setup services and their status. */
  services(options: Pick<CallOptions, "signal"> = {}): Promise<ServiceList> {
    return this.api.services(this.id, options);
  }

  /** The last `tail` lines of a service's log. */
  serviceLog(name: string, query: { tail?: number } = {}, options: Pick<CallOptions, "signal"> = {}): Promise<ServiceLog> {
    return this.api.serviceLog(this.id, name, query, options);
  }

  /** The workspace's changes since the session began (a unified diff, with `truncated` and `notes`). */
  diff(options: Pick<CallOptions, "signal"> = {}): Promise<WorkspaceDiff> {
    return this.api.diff(this.id, options);
  }

  /** One JSON page of the log. */
  readEvents(query: ReadEventsQuery = {}, options: Pick<CallOptions, "signal"> = {}): Promise<EventsPage> {
    return this.api.readEvents(this.id, query, options);
  }

  /** The log as a self-resuming async iterator that ends when the session is final. */
  events(options: FollowOptions = {}): AsyncGenerator<AirlockEvent, void, undefined> {
    return this.api.events(this.id, options);
  }

  /** Calls `onEvent` for every event of the log (from `after`), live; `close()` the result to stop. */
  onEvent(onEvent: (event: AirlockEvent) => void, options: Omit<SubscribeOptions, "onEvent"> = {}): Subscription {
    return this.api.subscribe(this.id, { ...options, onEvent });
  }

  /**
   * Sends `prompt` and resolves once its turn ended, with the stop reason, the agent's text and the usage.
   * Interactions go to `onInteraction` (else they wait for an answer given elsewhere). Throws
   * `SessionEndedError` if the session ends first.
   *
   * @example
   * const { stopReason, text } = await session.run("write notes.md hello");
   */
  async run(prompt: PromptInput, options: RunOptions = {}): Promise<TurnResult> {
    const { lastSeq } = await this.refresh(options);
    const { turnId } = await this.prompt(prompt, options);
    const turn = new TurnCollector(turnId);
    for await (const event of this.events({ after: lastSeq, signal: options.signal })) {
      options.onEvent?.(event);
      if (turn.add(event)) return turn.result!;
      if (event.type === "interaction.requested" && event.turnId === turnId && options.onInteraction) {
        const answer = await options.onInteraction(event.data, event);
        if (answer !== undefined) await this.answer(event.data.interactionId, answer, options).catch(ignoreAnsweredElsewhere);
      }
    }
    if (options.signal?.aborted) throw options.signal.reason ?? new Error("aborted");
    throw new SessionEndedError(this.id, turnId, await this.refresh());
  }
}

/** A 409 on an answer: someone answered first, which is fine for `run()`. */
function ignoreAnsweredElsewhere(err: unknown): void {
  if (AirlockApiError.is(err) && err.status === 409) return;
  throw err;
}

