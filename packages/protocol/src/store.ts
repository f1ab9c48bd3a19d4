/**
 * @module store — the one storage interface (SQLite embedded, PostgreSQL for scale-out).
 *
 * Every change to a session's log goes through `commit`: events get the next gapless `seq`s and are stored
 * in one transaction with the journal offset they came from and the state changes they imply, so a restart
 * resumes exactly where the last commit ended.
 */
import type { ContentBlock, StopReason } from "@agentclientprotocol/sdk";
import type { McpServer, PermissionMode, Usage, WorkspaceSeed } from "./api.ts";
import type { SessionSetup } from "./setup.ts";
import type { EventRow, NewEvent, SessionStatus } from "./events.ts";
import type { JsonRpcId } from "./journal.ts";
import type { SandboxRef } from "./provider.ts";
import type { WebhookRecord, WebhookStoreV1 } from "./webhooks.ts";

/**
 * A session's `env` value as stored: a reference to a tenant secret (resolved at each agent start), or a plain
 * value sealed by the server (AES-256-GCM). A bare string is a value stored in clear by a release before secrets
 * existed; it is still read.
 */
export type StoredEnvValue = string | { secret: string } | { sealed: string };

export interface SessionOptions {
  command?: string[];
  env?: Record<string, StoredEnvValue>;
  permissionMode: PermissionMode;
  model?: string;
  /** The agent reviews its own changes after each turn that made some (agents that support it). */
  review?: boolean;
  idleTimeoutSec: number;
  budgetUsd?: number;
  network: boolean;
  /** Where earlier versions kept the seed until the sandbox was made (now `StoreV1.sessionSeed`). */
  workspace?: WorkspaceSeed;
  /**
   * MCP servers as given at creation. With `sealed`, the values of HTTP headers (which the control plane adds,
   * the sandbox never sees) and of a stdio server's env are sealed like `env`'s.
   */
  mcpServers?: Array<McpServer & { sealed?: true }>;
  /** Setup commands and services (run by sandboxd, see setup.ts). */
  setup?: SessionSetup;
}

export interface SessionRecord {
  id: string;
  tenant: string;
  agent: string;
  provider: string;
  status: SessionStatus;
  statusReason: string | null;
  options: SessionOptions;
  metadata: Record<string, string>;
  lastSeq: number;
  /** Last sandboxd journal `seq` turned into events. */
  journalOffset: number;
  sandbox: SandboxRef | null;
  /** The agent's ACP session id (from `session/new`). */
  acpSessionId: string | null;
  usage: Usage;
  /** ms since epoch; null while work goes on. */
  idleDeadline: number | null;
  /** Unexpected agent exits since the last turn that ended without an error (restarts are bounded by it). */
  agentCrashes: number;
  /** The node that drives the session, while one does (see `LeaseRecord`). */
  lease?: LeaseRecord | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * A node's right to drive a session: only `node` runs its agent and appends to its log, until `expiresAt`
 * (renewed while the node lives). `epoch` grows by one at every change of owner and is the fencing token: a
 * commit made with an older epoch is refused, so an owner that was paused past its lease can never append.
 */
export interface LeaseRecord {
  node: string;
  epoch: number;
  /** ms since the epoch, by the store's clock. */
  expiresAt: number;
}

/** A node of the cluster as it last reported itself. */
export interface NodeRecord {
  id: string;
  /** Where the node serves its API. */
  url: string;
  startedAt: number;
  heartbeatAt: number;
}

/** What a node that does not own a session asks its owner to do (prompts and answers are in the store already). */
export type SessionCommandKind = "wake" | "cancel" | "keepalive" | "delete";
export interface SessionCommand {
  id: number;
  sessionId: string;
  kind: SessionCommandKind;
  createdAt: number;
}

export type SessionPatch = Partial<
  Pick<SessionRecord, "status" | "statusReason" | "sandbox" | "acpSessionId" | "usage" | "idleDeadline" | "options" | "agentCrashes">
>;

export type TurnStatus = "queued" | "running" | "ended";

/**
 * The `Idempotency-Key` a request came with and a fingerprint of what it asked (a hash of its body), stored with
 * what the request made: a retry with the key gets the first answer, a different request under it a 422.
 */
export interface IdempotencyRecord {
  key: string;
  fingerprint: string;
}

export interface TurnRecord {
  id: string;
  sessionId: string;
  status: TurnStatus;
  prompt: ContentBlock[];
  stopReason: StopReason | "error" | null;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** The key of the prompt request that queued the turn; unique within the session. */
  idempotency?: IdempotencyRecord;
}
export type TurnPatch = Partial<Pick<TurnRecord, "status" | "stopReason" | "error" | "startedAt" | "endedAt">>;

export interface InteractionRecord {
  id: string;
  sessionId: string;
  turnId: string | null;
  kind: "permission" | "question";
  /** JSON-RPC id of the agent's request, to answer it. */
  rpcId: JsonRpcId;
  /** The `interaction.requested` event data. */
  request: Record<string, unknown>;
  status: "pending" | "resolved";
  /** The `interaction.resolved` event data, once resolved. */
  resolution: Record<string, unknown> | null;
  /** True once the answer reached the agent (seen in the journal). */
  delivered: boolean;
  createdAt: number;
  resolvedAt: number | null;
  /** The key of the answer request that resolved it; unique within the session. */
  idempotency?: IdempotencyRecord;
}
export type InteractionPatch = Partial<Pick<InteractionRecord, "status" | "resolution" | "delivered" | "resolvedAt" | "idempotency">>;

export interface CommitBatch {
  events: NewEvent[];
  /** Journal offset stored with the events. Must be greater than the stored one, else `conflict`. */
  journalOffset?: number;
  session?: SessionPatch;
  turns?: { insert?: TurnRecord[]; update?: Array<{ id: string; patch: TurnPatch }> };
  interactions?: { insert?: InteractionRecord[]; update?: Array<{ id: string; patch: InteractionPatch }> };
  /** Commit only if this interaction is still pending, else throw `conflict` and change nothing. */
  requirePendingInteraction?: string;
  /** Add to the session's usage totals (atomic, concurrent-safe). */
  addUsage?: Usage;
  /** The committing owner's lease epoch: refused (`isFenced`) unless the session's lease still has it. */
  epoch?: number;
  /**
   * With `epoch`: the commit also extends the lease to at least the store's now + this many ms. A session busy
   * enough that a commit holds its row at every renewal keeps its lease all the same.
   */
  leaseTtlMs?: number;
}

export interface SessionQuery {
  tenant: string;
  status?: SessionStatus;
  metadata?: Record<string, string>;
  /** Cursor: a session id; returns sessions created before it. */
  before?: string;
  limit: number;
}

export interface ApiKeyRecord {
  id: string;
  tenant: string;
  name: string;
  createdAt: number;
}

/** A tenant secret as the store keeps it: `value` is sealed by the server (the store never sees it in clear). */
export interface SecretRecord {
  tenant: string;
  name: string;
  value: string;
  createdAt: number;
  updatedAt: number;
}

export interface EndedSessionQuery {
  /** ms since the epoch: sessions that stopped running before this. */
  endedBefore: number;
  /**
   * true: only sessions whose sandbox is kept (stopped, failed or paused with a sandbox), for sandbox retention.
   * Otherwise only final ones (stopped or failed, sandbox kept or not), for retention of the log.
   */
  sandboxKept?: boolean;
  limit: number;
}

export interface PurgeStep {
  /** Events, turns and interactions removed by this step. */
  removedRows: number;
  /** Purged sessions whose last row went in this step. */
  removedSessions: number;
  /** False when no purged session was left to work on. */
  more: boolean;
}

export interface StoreV1 {
  readonly specificationVersion: "v1";
  readonly kind: string;
  /** Webhooks and their delivery state (schema 4). */
  readonly webhooks: WebhookStoreV1;
  migrate(): Promise<void>;
  close(): Promise<void>;

  /**
   * Inserts the session and its first event (`session.status` provisioning), in the same transaction its own
   * webhook (the session option) if any, and a delivery cursor at seq 0 for every webhook that follows it.
   * `seed`: the workspace to make the sandbox from, kept apart from the session's row (it can be megabytes) until
   * `dropSessionSeed`, so that a node taking over a session whose sandbox was being made can make it again.
   */
  createSession(session: SessionRecord, firstEvents: NewEvent[], webhook?: WebhookRecord, seed?: WorkspaceSeed): Promise<EventRow[]>;
  sessionSeed(sessionId: string): Promise<WorkspaceSeed | null>;
  /** The sandbox is made (or the session ended): its seed is not needed any more. */
  dropSessionSeed(sessionId: string): Promise<void>;
  getSession(id: string): Promise<SessionRecord | null>;
  listSessions(query: SessionQuery): Promise<SessionRecord[]>;
  /** Sessions not stopped or failed, for recovery at start-up. */
  listLiveSessions(): Promise<SessionRecord[]>;
  countLiveSessions(tenant: string): Promise<number>;

  /** The one write path of a session's log. Returns the stored events (with their seqs). */
  commit(sessionId: string, batch: CommitBatch): Promise<EventRow[]>;
  /** Events with `seq > after`, oldest first, at most `limit`. */
  readEvents(sessionId: string, after: number, limit: number): Promise<EventRow[]>;
  /** Events of several sessions in one read, each with `seq > after`: at most `limit` per session, in seq order. */
  readEventsOf(cursors: Array<{ sessionId: string; after: number }>, limit: number): Promise<EventRow[]>;

  listTurns(sessionId: string, status?: TurnStatus): Promise<TurnRecord[]>;
  getTurn(sessionId: string, id: string): Promise<TurnRecord | null>;
  /** The turn a prompt with this idempotency key queued in this session, if any. */
  findTurnByIdempotencyKey(sessionId: string, key: string): Promise<TurnRecord | null>;
  listInteractions(sessionId: string, filter?: { status?: "pending" | "resolved"; delivered?: boolean }): Promise<InteractionRecord[]>;
  getInteraction(sessionId: string, id: string): Promise<InteractionRecord | null>;
  /** The interaction an answer with this idempotency key resolved in this session, if any. */
  findInteractionByIdempotencyKey(sessionId: string, key: string): Promise<InteractionRecord | null>;

  /** Stores a hash of a new random key; returns the key once, in clear. */
  createApiKey(tenant: string, name: string): Promise<{ record: ApiKeyRecord; key: string }>;
  findApiKey(key: string): Promise<ApiKeyRecord | null>;
  listApiKeys(tenant?: string): Promise<ApiKeyRecord[]>;
  revokeApiKey(id: string): Promise<boolean>;

  // ---- tenant secrets: values arrive sealed and leave sealed; listing never returns them

  /** Creates or replaces a secret; `createdAt` is kept on a replace. Returns the stored record. */
  putSecret(secret: { tenant: string; name: string; value: string; now: number }): Promise<SecretRecord>;
  /** The tenant's secrets, by name, without values (`value` is ""). */
  listSecrets(tenant: string): Promise<SecretRecord[]>;
  /** The named secrets of the tenant that exist (with their sealed values); missing names are left out. */
  getSecrets(tenant: string, names: string[]): Promise<SecretRecord[]>;
  /** False when there was no such secret. */
  deleteSecret(tenant: string, name: string): Promise<boolean>;

  // ---- data lifecycle: purging sessions' records, in steps small enough never to hold up a commit

  /**
   * Hides a final session (stopped or failed, its sandbox gone) from every read at once — it is as good as
   * missing — and leaves its records to `purgeStep`. Idempotent. `conflict` while the session runs or keeps its
   * sandbox; `not_found` when there is no such session.
   */
  requestPurge(sessionId: string): Promise<void>;
  /**
   * Removes at most `maxRows` rows of one purged session (its events, then turns, then interactions) in one short
   * transaction, and the session's own row once nothing else of it is left. Call it until `more` is false.
   */
  purgeStep(maxRows: number): Promise<PurgeStep>;
  /** Sessions that stopped running (stopped, failed, paused) before a time, longest ago first; for retention. */
  listEndedSessions(query: EndedSessionQuery): Promise<SessionRecord[]>;

  // ---- several nodes on one store: nodes, session leases, commands for an owner, the doorbell

  /** Registers the node or records that it still lives. */
  heartbeat(node: { id: string; url: string; startedAt: number }): Promise<void>;
  /** Nodes that reported since `aliveAfter` (ms since the epoch). */
  listNodes(aliveAfter: number): Promise<NodeRecord[]>;
  removeNode(id: string): Promise<void>;
  /**
   * Takes the session's lease for `node` if nobody holds it, it expired, or `node` holds it already (then it is
   * only extended); a new owner gets the next epoch. Null when another node holds it.
   */
  claimSession(sessionId: string, node: string, ttlMs: number): Promise<LeaseRecord | null>;
  /** Takes up to `limit` live sessions whose lease expired or that have no owner; each with its new lease. */
  claimExpired(node: string, ttlMs: number, limit: number): Promise<Array<{ sessionId: string; lease: LeaseRecord }>>;
  /**
   * Extends the leases `node` still holds with these epochs; returns the ids of those it still holds. Never waits
   * behind a commit in flight: a lease whose session a transaction holds is left as it is (the owner's commits
   * extend it) and counts as held while it has not expired.
   */
  renewLeases(node: string, leases: Array<{ sessionId: string; epoch: number }>, ttlMs: number): Promise<string[]>;
  /** Gives up leases at once (shutdown, the session ended), so another node can take them without waiting. */
  releaseLeases(node: string, sessionIds: string[]): Promise<void>;
  /** Every lease `node` holds (a node starting again under a fixed id: its previous run is gone). */
  releaseNodeLeases(node: string): Promise<void>;
  addCommand(sessionId: string, kind: SessionCommandKind): Promise<void>;
  /** Removes and returns the session's queued commands, oldest first. */
  takeCommands(sessionId: string): Promise<SessionCommand[]>;
  /** Sessions owned by `node` that have commands waiting. */
  commandSessions(node: string): Promise<string[]>;
  /** The last seq of each of these sessions (those that exist). */
  sessionHeads(sessionIds: string[]): Promise<Array<{ id: string; lastSeq: number }>>;
  /**
   * Stores that tell other nodes about changes (PostgreSQL's LISTEN/NOTIFY): `notify` rings, `listen` hears
   * every channel of `StoreChannel`. Absent for a store that serves one node only.
   */
  notify?(channel: StoreChannel, payload: string): Promise<void>;
  listen?(onMessage: (channel: StoreChannel, payload: string) => void, onReconnect: () => void): Promise<{ close(): Promise<void> }>;
  /** Counters since the store opened (commits are groups of batches written in one transaction). */
  stats?(): { commits: number; notifies: number };
}

/**
 * `events`: a commit stored new events (payload `sessionId:lastSeq,…`, one per commit, never one per event);
 * `commands`: a command for an owner was recorded (payload the session id); `leases`: leases were released.
 */
export type StoreChannel = "events" | "commands" | "leases";
