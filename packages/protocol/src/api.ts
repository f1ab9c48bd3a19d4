/**
 * @module api — request bodies and resources of the HTTP API (v1), with their runtime schemas.
 * A schema and its type share a name.
 */
import { z } from "zod";
import type { AirlockEvent, EventDataMap, SessionStatus } from "./events.ts";

export const limits = {
  maxBodyBytes: 4 * 1024 * 1024,
  maxPromptBytes: 256 * 1024,
  maxSeedFiles: 1000,
  maxSeedBytes: 8 * 1024 * 1024,
  maxEventsPerPage: 1000,
  maxEnvVars: 100,
  maxMetadataKeys: 32,
} as const;

const isRelativeInside = (p: string) => p.length > 0 && p.length <= 1024 && !p.startsWith("/") && !p.split(/[\\/]/).includes("..") && !p.includes("\0");

const seedFiles = z.record(z.string(), z.string()).superRefine((files, ctx) => {
  for (const path of Object.keys(files)) {
    if (!isRelativeInside(path)) ctx.addIssue({ code: "custom", path: [path], message: "must be a relative path inside the workspace (no leading '/', no '..')" });
  }
});

export const WorkspaceSeed = z
  .object({ files: seedFiles.optional(), git: z.string().url().optional() })
  .strict()
  .refine((w) => (w.files ? 1 : 0) + (w.git ? 1 : 0) === 1, { message: "give either `files` or `git`" });
export type WorkspaceSeed = z.infer<typeof WorkspaceSeed>;

export const PermissionMode = z.enum(["ask", "acceptEdits", "auto"]);
export type PermissionMode = z.infer<typeof PermissionMode>;

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name");

export const CreateSession = z
  .object({
    agent: z.string().min(1).max(64),
    provider: z.string().min(1).max(64).optional(),
    /** argv of the ACP agent when `agent` is `custom`. */
    command: z.array(z.string().max(4096)).min(1).max(64).optional(),
    workspace: WorkspaceSeed.optional(),
    env: z.record(envName, z.string().max(32 * 1024)).optional(),
    permissionMode: PermissionMode.optional(),
    model: z.string().max(200).optional(),
    /** Agents that can review their own changes (the built-in agent): a reviewer pass after each turn that changed files. */
    review: z.boolean().optional(),
    idleTimeoutSec: z.number().int().min(1).max(7 * 24 * 3600).optional(),
    budgetUsd: z.number().positive().max(1_000_000).optional(),
    network: z.boolean().optional(),
    metadata: z.record(z.string().max(64), z.string().max(1024)).optional(),
  })
  .strict();
export type CreateSession = z.infer<typeof CreateSession>;

/** ACP ContentBlock, checked on its discriminant; the agent validates the rest. */
export const ContentBlockSchema = z
  .object({ type: z.enum(["text", "image", "audio", "resource_link", "resource"]) })
  .passthrough();

/**
 * An idempotency key: the `Idempotency-Key` header of `POST .../prompt` and `POST .../interactions/:iid`, or
 * `requestId` in their body. A retry with the same key returns the first answer and changes nothing.
 */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "must be 1-255 visible ASCII characters (no spaces)");

export const Prompt = z
  .object({
    text: z.string().min(1).optional(),
    content: z.array(ContentBlockSchema).min(1).max(100).optional(),
    /** The same as an `Idempotency-Key` header. */
    requestId: IdempotencyKey.optional(),
  })
  .strict()
  .refine((p) => (p.text === undefined) !== (p.content === undefined), { message: "give either `text` or `content` (ACP content blocks)" });
export type Prompt = z.infer<typeof Prompt>;

export const AnswerInteraction = z
  .object({
    optionId: z.string().min(1).max(200).optional(),
    answer: z.unknown().optional(),
    /** The same as an `Idempotency-Key` header. */
    requestId: IdempotencyKey.optional(),
  })
  .strict()
  .refine((a) => (a.optionId === undefined) !== (a.answer === undefined), { message: "give `optionId` for a permission or `answer` for a question" });
export type AnswerInteraction = z.infer<typeof AnswerInteraction>;

/** `PATCH /v1/sessions/:id`: sets or raises the session's LLM budget; `null` removes it. */
export const UpdateSession = z.object({ budgetUsd: z.number().positive().max(1_000_000).nullable() }).strict();
export type UpdateSession = z.infer<typeof UpdateSession>;

const sessionStatuses = ["provisioning", "ready", "running", "awaiting_input", "paused", "stopping", "stopped", "failed"] as const satisfies readonly SessionStatus[];

/** The query of `GET /v1/sessions` (besides `metadata.KEY=VALUE` filters). */
export const ListSessionsQuery = z.object({
  status: z.enum(sessionStatuses).optional(),
  /** The cursor of the previous page (`nextCursor`). */
  before: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListSessionsQuery = z.input<typeof ListSessionsQuery> & {
  /** Exact matches on metadata keys. */
  metadata?: Record<string, string>;
};

/** `POST .../prompt` answers 202 with the turn it queued (the same turn again for a retried idempotency key). */
export interface PromptAccepted {
  turnId: string;
}

/** `POST .../interactions/:iid` answers with the resolution (the `interaction.resolved` event's data). */
export type InteractionResolution = EventDataMap["interaction.resolved"];

/** A JSON page of `GET .../events` (without `Accept: text/event-stream`). */
export interface EventsPage {
  events: AirlockEvent[];
  /** Pass as `after` to read on; equals `after` when the page is empty. */
  nextAfter: number;
}

/** A page of `GET /v1/sessions`. */
export interface SessionList {
  sessions: SessionView[];
  /** Pass as `before` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** `GET /healthz`. */
export interface HealthView {
  ok: boolean;
  version: string;
  store: string;
  providers: string[];
  defaultProvider: string;
  agents: Array<{ name: string; available: boolean }>;
  liveSessions: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface PendingInteraction {
  id: string;
  kind: "permission" | "question";
  turnId: string | null;
  createdAt: string;
  request: unknown;
}

/** A session as `GET /v1/sessions/:id` returns it. */
export interface SessionView {
  id: string;
  agent: string;
  provider: string;
  status: SessionStatus;
  statusReason: string | null;
  /** Nothing more will happen: failed, or stopped with its sandbox gone (an idle-stopped session resumes). */
  final: boolean;
  permissionMode: PermissionMode;
  model: string | null;
  review: boolean;
  metadata: Record<string, string>;
  lastSeq: number;
  pendingInteractions: PendingInteraction[];
  queuedTurns: number;
  usage: Usage;
  budgetUsd: number | null;
  idleTimeoutSec: number;
  idleDeadline: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface AgentView {
  name: string;
  title: string;
  description: string;
  available: boolean;
  /** Takes the session option `review` (reviews its own changes). */
  review?: boolean;
  /** Why it is not available, and how to fix it. */
  reason?: string;
  fix?: string;
}
