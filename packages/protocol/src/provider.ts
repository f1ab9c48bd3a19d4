/**
 * @module provider — what a sandbox provider (`local`, `e2b`, ...) offers the control plane.
 *
 * A provider object does no I/O until `create`/`connect`. Optional capabilities are optional members and
 * are declared in `capabilities`, never guessed.
 */
import type { WorkspaceSeed } from "./api.ts";
import type { SessionSetup } from "./setup.ts";

/** Serializable pointer to a sandbox, stored in the session row to re-attach after a restart. */
export interface SandboxRef {
  provider: string;
  id: string;
  data: Record<string, unknown>;
  /** The sandbox's labels, as `list` found them: they name its session where the sandbox id does not (E2B). */
  labels?: Record<string, string>;
}

export interface SandboxSpec {
  sessionId: string;
  /** Labels that find this sandbox again (installation id, session id): orphan reaping. */
  labels: Record<string, string>;
  network: boolean;
  seed?: WorkspaceSeed;
  resources?: { memoryMb?: number; pids?: number; cpuSeconds?: number; fileSizeMb?: number };
  /** Provider-side timeout (E2B); pushed forward by keepAlive. */
  timeoutMs?: number;
  /** The session's idle timeout: the local relay's default orphan grace (how long it outlives a stopped control plane). */
  idleTimeoutSec?: number;
}

/** How to start the agent, as the agent registry describes it. */
export interface AgentLaunch {
  argv: string[];
  env: Record<string, string>;
  /** Host paths the agent's program needs, made visible read-only (local provider). */
  readOnlyPaths?: string[];
  /** Files written into the agent's private home before start, relative to it. */
  homeFiles?: Record<string, string>;
  /** Host folders bound read-write into the sandbox (local provider), e.g. the gateway's socket folder. */
  binds?: Array<{ host: string; sandbox: string }>;
  /** The session's setup commands and services, handed to sandboxd as they are (`SandboxdConfig.setup`). */
  setup?: SessionSetup;
}

/** How to reach a running sandboxd. */
export interface SandboxdEndpoint {
  token: string;
  /** Unix socket (local) ... */
  socketPath?: string;
  /** ... or a base URL (E2B: `https://PORT-ID.DOMAIN`). */
  url?: string;
  /** Extra headers on every request (E2B: the traffic access token of a private sandbox, proxy routing). */
  headers?: Record<string, string>;
}

export type WorkspaceEntry =
  | { type: "dir"; path: string; entries: Array<{ name: string; type: "file" | "dir" | "symlink" | "other"; size: number }> }
  | { type: "file"; path: string; size: number; content: string; encoding: "utf8" | "base64"; truncated: boolean };

/** `GET /v1/sessions/:id/diff`: what the session changed in its workspace. */
export interface WorkspaceDiff {
  /** Unified diff against the workspace at session start ("" when nothing changed). */
  diff: string;
  /**
   * The diff is incomplete: cut at its size bound, or its walk stopped at the time, file-count or read bound
   * (files not reached count as unchanged). `notes` says which.
   */
  truncated: boolean;
  /** What was summarized or left out, and why: files too large to read, nested repositories, unreadable files, the bound reached. */
  notes: string[];
}

export interface SandboxHandle {
  readonly ref: SandboxRef;
  /** The workspace as the agent sees it (ACP `cwd`); `/workspace` when not set. */
  readonly workspacePath?: string;
  /** Starts sandboxd detached (it outlives the control plane) and resolves once it answers. */
  startSandboxd(launch: AgentLaunch, token: string, signal?: AbortSignal): Promise<SandboxdEndpoint>;
  /** The running sandboxd, or null when none runs (after a restart of the control plane). */
  findSandboxd(token: string): Promise<SandboxdEndpoint | null>;
  /** A folder or file of the workspace; `path` is relative and confined to it. */
  readWorkspace(path: string): Promise<WorkspaceEntry>;
  /** The workspace's changes since the sandbox was created; bounded, and never a failure because of what the workspace holds. */
  diff(): Promise<WorkspaceDiff>;
  keepAlive?(ms: number): Promise<void>;
  pause?(): Promise<void>;
  /** Kills every process and removes the sandbox. Idempotent. */
  destroy(): Promise<void>;
}

export interface PreflightProblem {
  code: string;
  message: string;
  /** What to do about it. */
  fix: string;
}

export interface PreflightReport {
  ok: boolean;
  problems: PreflightProblem[];
}

export interface SandboxProviderV1 {
  readonly specificationVersion: "v1";
  readonly name: string;
  readonly capabilities: { pause: boolean; network: boolean; keepAlive: boolean };
  preflight(): Promise<PreflightReport>;
  create(spec: SandboxSpec, onProgress?: (step: string) => void, signal?: AbortSignal): Promise<SandboxHandle>;
  /** Re-attaches to an existing sandbox; null when it is gone. */
  connect(ref: SandboxRef): Promise<SandboxHandle | null>;
  /** Sandboxes carrying all these labels (orphan reaping). */
  list(labels: Record<string, string>): Promise<SandboxRef[]>;
}
