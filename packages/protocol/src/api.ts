/**
 * @module api — request bodies and resources of the HTTP API (v1), with their runtime schemas.
 * A schema and its type share a name.
 */
import { z } from "zod";
import type { AirlockEvent, EventDataMap, SessionStatus } from "./events.ts";
import { SessionSetup } from "./setup.ts";
import { SessionWebhook } from "./webhooks.ts";

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
  maxMcpServers: 20,
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

/**
 * A tenant secret's name: shaped like an environment variable name, so it can be referenced from `env` and put in
 * a URL path without escaping.
 */
export const SecretName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be letters, digits and _ (not starting with a digit), like an environment variable name");

/** 64 KiB: room for a certificate or a service account's JSON. */
export const maxSecretBytes = 64 * 1024;

/** `PUT /v1/secrets/:name`: the value is write-only (never returned by any route). */
export const PutSecret = z
  .object({
    value: noNul(z.string().min(1, "must not be empty")).refine((v) => utf8Bytes(v) <= maxSecretBytes, `must be at most ${maxSecretBytes} bytes`),
  })
  .strict();
export type PutSecret = z.infer<typeof PutSecret>;

/** A secret as `GET /v1/secrets` lists it: never its value. */
export interface SecretView {
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** An `env` value: a plain string, or `{"secret": "NAME"}` for the tenant's secret of that name (read at each agent start). */
export const EnvValue = z.union([noNul(z.string().max(32 * 1024)), z.object({ secret: SecretName }).strict()]);
export type EnvValue = z.infer<typeof EnvValue>;

const env = z
  .record(envName, EnvValue)
  .refine((e) => Object.keys(e).length <= limits.maxEnvVars, `at most ${limits.maxEnvVars} variables`)
  .refine(
    (e) => Object.entries(e).reduce((n, [k, v]) => n + utf8Bytes(k) + (typeof v === "string" ? utf8Bytes(v) : 0) + 2, 0) <= limits.maxEnvBytes,
    `names and values together are limited to ${limits.maxEnvBytes} bytes`,
  );

/** A name and value pair of ACP's `McpServer` (`env[]`, `headers[]`). */
const nameValue = (name: z.ZodString) => z.object({ name, value: noNul(z.string().max(8 * 1024)) }).strict();
/** HTTP header names (RFC 9110 tokens). */
const headerName = z.string().min(1).max(256).regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a valid HTTP header name");
const headerValue = z.string().max(8 * 1024).regex(/^[\t\x20-\x7e\x80-\uffff]*$/, "must not contain control characters (CR, LF, NUL)");
/** A server's name: part of a route and of tool names (`mcp__<name>__<tool>`). */
const mcpName = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, "must be 1-64 letters, digits, '_' or '-'");
const mcpUrl = z
  .string()
  .max(2048)
  .refine((u) => URL.canParse(u), "must be an absolute URL")
  .refine((u) => !URL.canParse(u) || /^https?:$/.test(new URL(u).protocol), "must be an http:// or https:// URL");

/** An MCP server run inside the sandbox by the agent (ACP `McpServerStdio`). */
export const McpServerStdio = z
  .object({
    type: z.literal("stdio").optional(),
    name: mcpName,
    command: noNul(z.string().min(1, "must not be empty").max(4096)),
    args: z.array(noNul(z.string().max(4096))).max(64).default([]),
    env: z.array(nameValue(envName)).max(limits.maxEnvVars).default([]),
  })
  .strict();
/** An MCP server reached over HTTP (ACP `McpServerHttp` / `McpServerSse`), through the control plane. */
export const McpServerHttp = z
  .object({
    type: z.enum(["http", "sse"]),
    name: mcpName,
    url: mcpUrl,
    headers: z.array(z.object({ name: headerName, value: headerValue }).strict()).max(32).default([]),
  })
  .strict();

/**
 * ACP's `McpServer`: stdio (`command`) or HTTP/SSE (`type` and `url`). Each shape is told apart by what it has,
 * so an entry with neither `command` nor `url` gets one message saying so.
 */
export const McpServer = z.unknown().transform((value, ctx) => {
  const v = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const hasUrl = "url" in v || v.type === "http" || v.type === "sse";
  if (!("command" in v) && !hasUrl) {
    ctx.addIssue({ code: "custom", message: "give either `command` (a stdio server run in the sandbox) or `type` (\"http\" or \"sse\") and `url`" });
    return z.NEVER;
  }
  if ("command" in v && hasUrl) {
    ctx.addIssue({ code: "custom", message: "give either `command` or `url`, not both" });
    return z.NEVER;
  }
  const parsed = (hasUrl ? McpServerHttp.safeParse(hasUrl && !v.type ? { ...v, type: "http" } : v) : McpServerStdio.safeParse(v)) as z.ZodSafeParseResult<McpServerStdio | McpServerHttp>;
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", path: issue.path as (string | number)[], message: issue.message });
    return z.NEVER;
  }
  return parsed.data;
});
export type McpServerStdio = z.infer<typeof McpServerStdio>;
export type McpServerHttp = z.infer<typeof McpServerHttp>;
export type McpServer = McpServerStdio | McpServerHttp;

const mcpServers = z
  .array(McpServer)
  .max(limits.maxMcpServers, `at most ${limits.maxMcpServers} servers`)
  .superRefine((servers, ctx) => {
    const seen = new Set<string>();
    servers.forEach((s, i) => {
      if (s && seen.has(s.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `"${s.name}" is given twice; server names must be unique` });
      if (s) seen.add(s.name);
    });
  });

/** An MCP server as the session view shows it: header names only, never their values (they hold tokens). */
export type McpServerView =
  | { type: "stdio"; name: string; command: string; args: string[]; env: string[] }
  | { type: "http" | "sse"; name: string; url: string; headers: string[] };

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
    /** Commands run before the agent starts and services kept running beside it (setup.ts). */
    setup: SessionSetup.optional(),
    /** This session's events to this URL, signed; the answer carries the webhook's id and secret once. */
    webhook: SessionWebhook.optional(),
    /** MCP servers for the agent (ACP's shape): stdio ones run in the sandbox, HTTP/SSE ones are reached through the control plane. */
    mcpServers: mcpServers.optional(),
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
  /**
   * Pass as `after` to read on; equals `after` when the page is empty. With `types`, it may be past the last
   * event shown (the events after it were of other types).
   */
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
  /**
   * How late this node's event loop ran (ms) over the last one to two minutes: high figures mean the machine is
   * short of CPU (or a GC stalled the process), which delays every session this node serves.
   */
  eventLoopDelayMs: { p99: number; max: number };
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
  /** The session's env by name: plain values as `"***"`, secret references as `{secret: NAME}`; never a value. */
  env: Record<string, "***" | { secret: string }>;
  metadata: Record<string, string>;
  /** The session's MCP servers, without header or env values. */
  mcpServers: McpServerView[];
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
  /** The MCP server transports it takes in `mcpServers` (stdio always; HTTP and SSE where the agent says so). */
  mcp: { stdio: boolean; http: boolean; sse: boolean };
  /** Why it is not available, and how to fix it. */
  reason?: string;
  fix?: string;
  /** For agents that call an LLM: whose key the gateway uses, the tenant's own (a secret) or the server's. */
  credentials?: "tenant" | "server";
}
