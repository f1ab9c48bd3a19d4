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
  /** A seed file's path, and one name in it (the file systems' own limit, NAME_MAX). */
  maxSeedPathBytes: 1024,
  maxFileNameBytes: 255,
  maxEventsPerPage: 1000,
  maxEnvVars: 100,
  /** Names and values of `env` together: the kernel refuses a program whose environment and argv pass 2 MiB. */
  maxEnvBytes: 256 * 1024,
  maxMetadataKeys: 32,
} as const;

/**
 * Strings that become a file name, an argv element or an environment value: the kernel ends those at a NUL,
 * so one would be accepted here and fail the session later.
 */
const noNul = (s: z.ZodString) => s.refine((v) => !v.includes("\0"), "must not contain a NUL character");

/** Bytes of `s` in UTF-8 (browsers use this module too: no Buffer). */
const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

/** Why `path` cannot name a seed file (a relative path of plain names), or null when it can. */
export function seedPathProblem(path: string): string | null {
  if (path === "") return "must not be empty";
  if (path.includes("\0")) return "must not contain a NUL character";
  if (utf8Bytes(path) > limits.maxSeedPathBytes) return `is longer than ${limits.maxSeedPathBytes} bytes`;
  if (path.startsWith("/")) return "must be a relative path inside the workspace (no leading '/')";
  const names = path.split("/");
  if (names.includes("")) return "has an empty name in it ('//', or a '/' at the end)";
  if (path.split(/[\\/]/).some((n) => n === "..") || names.includes(".")) return "must be a path inside the workspace (no '.' or '..' in it)";
  const long = names.find((n) => utf8Bytes(n) > limits.maxFileNameBytes);
  if (long) return `has a name longer than ${limits.maxFileNameBytes} bytes (${long.slice(0, 20)}…)`;
  return null;
}

const seedFiles = z.record(z.string(), z.string()).superRefine((files, ctx) => {
  const paths = Object.keys(files);
  for (const path of paths) {
    const problem = seedPathProblem(path);
    if (problem) ctx.addIssue({ code: "custom", path: [path], message: problem });
  }
  // "a" and "a/b" cannot both be written: "a" would have to be a file and a folder.
  const given = new Set(paths);
  for (const path of paths) {
    const names = path.split("/");
    for (let i = 1; i < names.length; i++) {
      const folder = names.slice(0, i).join("/");
      if (given.has(folder)) ctx.addIssue({ code: "custom", path: [path], message: `needs "${folder}" to be a folder, but "${folder}" is given as a file` });
    }
  }
});

export const WorkspaceSeed = z
  .object({ files: seedFiles.optional(), git: noNul(z.string().max(2048).url()).optional() })
  .strict()
  .refine((w) => (w.files ? 1 : 0) + (w.git ? 1 : 0) === 1, { message: "give either `files` or `git`" });
export type WorkspaceSeed = z.infer<typeof WorkspaceSeed>;

export const PermissionMode = z.enum(["ask", "acceptEdits", "auto"]);
export type PermissionMode = z.infer<typeof PermissionMode>;

const envName = z.string().max(256).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name");

const env = z
  .record(envName, noNul(z.string().max(32 * 1024)))
  .refine((e) => Object.keys(e).length <= limits.maxEnvVars, `at most ${limits.maxEnvVars} variables`)
  .refine((e) => Object.entries(e).reduce((n, [k, v]) => n + utf8Bytes(k) + utf8Bytes(v) + 2, 0) <= limits.maxEnvBytes, `names and values together are limited to ${limits.maxEnvBytes} bytes`);

const metadata = z
  .record(z.string().min(1).max(64), z.string().max(1024))
  .refine((m) => Object.keys(m).length <= limits.maxMetadataKeys, `at most ${limits.maxMetadataKeys} keys`);

export const CreateSession = z
  .object({
    agent: z.string().min(1).max(64),
    provider: z.string().min(1).max(64).optional(),
    /** argv of the ACP agent when `agent` is `custom`. */
    command: z
      .array(noNul(z.string().max(4096)))
      .min(1)
      .max(64)
      .refine((argv) => argv[0] !== "", "the program (the first element) must not be empty")
      .optional(),
    workspace: WorkspaceSeed.optional(),
    env: env.optional(),
    permissionMode: PermissionMode.optional(),
    model: noNul(z.string().max(200)).optional(),
    /** Agents that can review their own changes (the built-in agent): a reviewer pass after each turn that changed files. */
    review: z.boolean().optional(),
    idleTimeoutSec: z.number().int().min(1).max(7 * 24 * 3600).optional(),
    budgetUsd: z.number().positive().max(1_000_000).optional(),
    network: z.boolean().optional(),
    metadata: metadata.optional(),
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
  /** Providers Airlock has that this server's configuration leaves off, with why and the fix. */
  unconfiguredProviders: Array<Extract<ProviderView, { configured: false }>>;
  agents: Array<{ name: string; available: boolean }>;
  /** Sessions this node drives. */
  liveSessions: number;
  /** This node's id (AIRLOCK_NODE_ID). */
  node: string;
  /** PostgreSQL: commit transactions and doorbell NOTIFYs this node sent since it started. */
  storeStats?: { commits: number; notifies: number };
  /** Nodes on this store that reported within the lease TTL (this one included), with where they serve. */
  nodes: Array<{ id: string; url: string; startedAt: string; heartbeatAt: string }>;
}

/** A sandbox provider as `GET /v1/providers` shows it: usable, or known but off (and how to turn it on). */
export type ProviderView =
  | { name: string; configured: true; default: boolean; capabilities: { pause: boolean; network: boolean; keepAlive: boolean } }
  | { name: string; configured: false; reason: string; fix: string };

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
  /**
   * The sandbox is still there, so its workspace can be read (`/files`, `/diff`): also for a failed session,
   * whose sandbox stays for inspection until it is deleted.
   */
  hasWorkspace: boolean;
  permissionMode: PermissionMode;
  model: string | null;
  review: boolean;
  metadata: Record<string, string>;
  lastSeq: number;
  pendingInteractions: PendingInteraction[];
  queuedTurns: number;
  usage: Usage;
  budgetUsd: number | null;
  /** The node that drives the session while it runs (null when none does: stopped, or waiting for a new owner). */
  owner: { node: string; leaseExpiresAt: string } | null;
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
