/**
 * @module sessions — `airlock.sessions`: every `/v1/sessions` call of the API, by session id.
 *
 * Prompts and answers carry an `Idempotency-Key` (made per call unless given), so they are retried on a
 * timeout or a restarting server without ever queuing a turn twice or answering twice.
 */
import type {
  AirlockEvent,
  AnswerInteraction,
  CreateSession,
  EventsPage,
  InteractionResolution,
  ListSessionsQuery,
  Prompt,
  PromptAccepted,
  ServiceList,
  ServiceLog,
  SessionList,
  SessionView,
  WorkspaceDiff,
  WorkspaceEntry,
  WebhookView,
} from "@airlock/protocol";
import { type FollowOptions, type ReadEventsQuery, type SubscribeOptions, type Subscription, follow, readEvents, subscribe } from "./follow.ts";
import { type CallOptions, type Transport, newIdempotencyKey, sessionPath } from "./http.ts";

/** What a prompt is: text, or `{text}` / `{content: [ACP ContentBlock]}` (the API's `Prompt` body). */
export type PromptInput = string | Omit<Prompt, "requestId">;

/** How an interaction is answered: an option id (a permission), or `{optionId}` / `{answer}`. */
export type AnswerInput = string | Omit<AnswerInteraction, "requestId">;

/** The `/v1/sessions` calls, by session id. Reached as `airlock.sessions`. */
export class SessionsApi {
  constructor(private readonly transport: Transport) {}

  /**
   * Creates a session (201, status `provisioning`: the sandbox is made in the background). With `webhook`, the
   * answer carries the session's own webhook with its signing secret, shown only here.
   */
  create(body: CreateSession, options: Pick<CallOptions, "signal"> = {}): Promise<SessionView & { webhook?: WebhookView & { secret: string } }> {
    return this.transport.request({ method: "POST", path: "/v1/sessions", body, signal: options.signal });
  }

  /** The session now: status, pending interactions, queued turns, usage, `lastSeq`. */
  get(id: string, options: Pick<CallOptions, "signal"> = {}): Promise<SessionView> {
    return this.transport.request({ method: "GET", path: sessionPath(id), signal: options.signal });
  }

  /** One page of the tenant's sessions, newest first; pass `nextCursor` as `before` for the next. */
  list(query: ListSessionsQuery = {}, options: Pick<CallOptions, "signal"> = {}): Promise<SessionList> {
    const params = new URLSearchParams();
    if (query.status) params.set("status", query.status);
    if (query.before) params.set("before", query.before);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    for (const [key, value] of Object.entries(query.metadata ?? {})) params.set(`metadata.${key}`, value);
    const qs = params.toString();
    return this.transport.request({ method: "GET", path: `/v1/sessions${qs ? `?${qs}` : ""}`, signal: options.signal });
  }

  /** Every session matching `query`, page after page. */
  async *all(query: Omit<ListSessionsQuery, "before"> = {}, options: Pick<CallOptions, "signal"> = {}): AsyncGenerator<SessionView> {
    let before: string | undefined;
    do {
      const page = await this.list({ ...query, ...(before ? { before } : {}) }, options);
      yield* page.sessions;
      before = page.nextCursor ?? undefined;
    } while (before);
  }

  /** Stops the agent and destroys the sandbox; the event log stays readable, unless `purge` removes it too (then the session is gone: 404). */
  delete(id: string, options: Pick<CallOptions, "signal"> & { purge?: boolean } = {}): Promise<{ id: string; status: string; purged?: boolean }> {
    return this.transport.request({ method: "DELETE", path: sessionPath(id, options.purge ? "?purge=true" : ""), signal: options.signal });
  }

  /** Sends a prompt (202 with its turn id); while a turn runs it is queued, in order. Idempotent (see the module comment). */
  prompt(id: string, prompt: PromptInput, options: CallOptions = {}): Promise<PromptAccepted> {
    const body = typeof prompt === "string" ? { text: prompt } : prompt;
    return this.transport.request({ method: "POST", path: sessionPath(id, "/prompt"), body, signal: options.signal, idempotencyKey: options.idempotencyKey ?? newIdempotencyKey() });
  }

  /** Cancels the running turn (ACP `session/cancel`): it ends with `cancelled`. A 409 when no turn runs. */
  cancel(id: string, options: Pick<CallOptions, "signal"> = {}): Promise<{ cancelled: boolean }> {
    return this.transport.request({ method: "POST", path: sessionPath(id, "/cancel"), body: {}, signal: options.signal });
  }

  /**
   * Answers a pending interaction: an option id (or `{optionId}`) for a permission, `{answer}` for a question.
   * Resolves with the resolution; a 409 `AirlockApiError` when someone else answered first. Idempotent.
   */
  answer(id: string, interactionId: string, answer: AnswerInput, options: CallOptions = {}): Promise<InteractionResolution> {
    const body = typeof answer === "string" ? { optionId: answer } : answer;
    return this.transport.request({
      method: "POST",
      path: sessionPath(id, `/interactions/${encodeURIComponent(interactionId)}`),
      body,
      signal: options.signal,
      idempotencyKey: options.idempotencyKey ?? newIdempotencyKey(),
    });
  }

  /** Pushes the idle deadline forward. */
  keepalive(id: string, options: Pick<CallOptions, "signal"> = {}): Promise<{ idleDeadline: string | null }> {
    return this.transport.request({ method: "POST", path: sessionPath(id, "/keepalive"), body: {}, signal: options.signal });
  }

  /** Sets or raises the session's LLM budget in USD (`null` removes it); a session stopped by its budget goes on with the next prompt. */
  updateBudget(id: string, budgetUsd: number | null, options: Pick<CallOptions, "signal"> = {}): Promise<SessionView> {
    return this.transport.request({ method: "PATCH", path: sessionPath(id), body: { budgetUsd }, signal: options.signal });
  }

  /** A folder listing or a file of the session's workspace ("" is the workspace itself). */
  files(id: string, path = "", options: Pick<CallOptions, "signal"> = {}): Promise<WorkspaceEntry> {
    return this.transport.request({ method: "GET", path: sessionPath(id, `/files?path=${encodeURIComponent(path)}`), signal: options.signal });
  }

  /**
   * The workspace's changes since the session began: `diff` is a unified diff ("" when nothing changed);
   * `truncated` says it is incomplete (a size, time or file-count bound), `notes` what was summarized and why.
   */
  diff(id: string, options: Pick<CallOptions, "signal"> = {}): Promise<WorkspaceDiff> {
    return this.transport.request<WorkspaceDiff>({ method: "GET", path: sessionPath(id, "/diff"), signal: options.signal });
  }

  /** The session's setup services (name, command, status, exit code) and whether its setup commands have run. */
  services(id: string, options: Pick<CallOptions, "signal"> = {}): Promise<ServiceList> {
    return this.transport.request({ method: "GET", path: sessionPath(id, "/services"), signal: options.signal });
  }

  /** The last `tail` lines (default 200) of a service's log; a 409 while the session's services are not running. */
  serviceLog(id: string, name: string, query: { tail?: number } = {}, options: Pick<CallOptions, "signal"> = {}): Promise<ServiceLog> {
    const qs = query.tail !== undefined ? `?tail=${query.tail}` : "";
    return this.transport.request({ method: "GET", path: sessionPath(id, `/services/${encodeURIComponent(name)}/log${qs}`), signal: options.signal });
  }

  /** One JSON page of the log: events with a seq above `after` (default 0), at most `limit` (default 100, at most 1,000). */
  readEvents(id: string, query: ReadEventsQuery = {}, options: Pick<CallOptions, "signal"> = {}): Promise<EventsPage> {
    return readEvents(this.transport, id, query, options.signal);
  }

  /**
   * The log as an async iterator: from `after`, then live; resumes by itself across drops and server restarts,
   * never yields a seq twice or skips one, and ends when the session is final (or `signal` aborts).
   *
   * @example
   * for await (const event of airlock.sessions.events(id)) console.log(event.seq, event.type);
   */
  events(id: string, options: FollowOptions = {}): AsyncGenerator<AirlockEvent, void, undefined> {
    return follow(this.transport, id, options);
  }

  /** The same as `events`, with callbacks (for UIs); `close()` stops it. */
  subscribe(id: string, options: SubscribeOptions): Subscription {
    return subscribe(this.transport, id, options);
  }
}
