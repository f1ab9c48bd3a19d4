/**
 * @module @airlock/client — the typed SDK of Airlock's HTTP API (v1).
 *
 * Types come from `@airlock/protocol`, the same schemas the server validates with.
 *
 * @example
 * import { AirlockClient } from "@airlock/client";
 * const airlock = new AirlockClient({ baseUrl: "http://127.0.0.1:4600" });
 * const session = await airlock.createSession({ agent: "scripted" });
 * console.log((await session.run("tool")).text);
 */
export { AirlockClient } from "./client.ts";
export { AirlockApiError } from "./errors.ts";
export type { FollowOptions, ReadEventsQuery, SubscribeOptions, Subscription, SubscriptionStatus } from "./follow.ts";
export { type CallOptions, type ClientOptions, type RetryOptions, newIdempotencyKey } from "./http.ts";
export { SecretsApi } from "./secrets.ts";
export { type InteractionRequest, type RunOptions, Session, SessionEndedError } from "./session.ts";
export { type AnswerInput, type PromptInput, SessionsApi } from "./sessions.ts";
export { SseParser, type SseFrame } from "./sse.ts";
export { TurnCollector, type TurnResult } from "./turn.ts";
export { WebhooksApi, verifyWebhookSignature } from "./webhooks.ts";
export type {
  AgentView,
  AirlockEvent,
  AnswerInteraction,
  CreateSession,
  CreateWebhook,
  DeliveriesPage,
  DeliveryView,
  EventDataMap,
  EventsPage,
  EnvValue,
  EventType,
  HealthView,
  InteractionResolution,
  ListSessionsQuery,
  PendingInteraction,
  PermissionMode,
  Prompt,
  PromptAccepted,
  PutSecret,
  SecretView,
  SessionList,
  SessionStatus,
  SessionView,
  Usage,
  WebhookDelivery,
  WebhookView,
  WorkspaceEntry,
} from "@airlock/protocol";
