/**
 * @module journal — the records sandboxd appends to its journal, one JSON object per line.
 *
 * `seq` is sandboxd's own sequence number (starts at 1, gapless); the control plane stores the last
 * `seq` it has turned into events as the session's journal offset, in the same transaction as the events.
 */
import type { SessionSetup } from "./setup.ts";

/** A JSON-RPC 2.0 message as it travels over ACP's stdio. */
export type JsonRpcId = string | number;
export interface JsonRpcRequest {
  jsonrpc: "2.0";
  id: JsonRpcId;
  method: string;
  params?: unknown;
}
export interface JsonRpcNotification {
  jsonrpc: "2.0";
  method: string;
  params?: unknown;
}
export interface JsonRpcResponse {
  jsonrpc: "2.0";
  id: JsonRpcId | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

interface RecordBase {
  seq: number;
  /** Milliseconds since the epoch, sandboxd's clock. */
  at: number;
}

export type JournalRecord =
  /** A message the agent wrote to its stdout. */
  | (RecordBase & { kind: "agent"; msg: JsonRpcMessage })
  /** A message sent to the agent's stdin by the control plane (`POST /send`). */
  | (RecordBase & { kind: "client"; msg: JsonRpcMessage })
  /** sandboxd's own answer to an `fs/*` or `terminal/*` request of the agent. */
  | (RecordBase & { kind: "local"; msg: JsonRpcMessage })
  /**
   * A file the agent changed: through `fs/write_text_file`, or found by a snapshot compare of the workspace
   * (after a tool call, a terminal's exit, a turn, the agent's exit). `path` is relative to the workspace.
   */
  | (RecordBase & {
      kind: "file";
      path: string;
      change: "created" | "modified" | "deleted";
      diff: string;
      /** True when the diff was cut at the size bound. */
      truncated?: boolean;
    })
  /** Output of a `terminal/create` command, in bounded chunks. */
  | (RecordBase & { kind: "terminal"; terminalId: string; stream: "output" | "exit"; data?: string; exitCode?: number | null; signal?: string | null })
  /** A bounded tail of the agent's stderr. */
  | (RecordBase & { kind: "stderr"; data: string })
  /** The agent process started. */
  | (RecordBase & { kind: "started"; pid: number })
  /** The agent process ended; `requested` when sandboxd was asked to stop it; `reason` when sandboxd ended it for a limit. */
  | (RecordBase & { kind: "exit"; code: number | null; signal: string | null; requested: boolean; reason?: "disk_limit"; detail?: string })
  /** A line on the agent's stdout that is not JSON-RPC. */
  | (RecordBase & { kind: "garbage"; data: string })
  /** Setup command `step` of `total` starts; its output follows as `terminal` records of `terminalId`. */
  | (RecordBase & { kind: "setup"; step: number; total: number; command: string; terminalId: string })
  /** Every setup command succeeded (or they had run in this sandbox before): not run again in it. */
  | (RecordBase & { kind: "setup_done"; ran: boolean })
  /** A background service started, became ready, or exited. */
  | (RecordBase & { kind: "service"; name: string; status: "starting" | "running" | "exited"; exitCode?: number | null; signal?: string | null })
  /**
   * Preparing the sandbox failed (a setup command, a service that never got ready): the agent is not started.
   * `detail` is the tail of the output that says why.
   */
  | (RecordBase & { kind: "prepare_failed"; message: string; exitCode?: number | null; detail: string });

export type JournalKind = JournalRecord["kind"];

/**
 * How sandboxd is configured: written as JSON by the provider, passed as the single argument
 * (`node sandboxd.js /path/to/config.json`).
 */
export interface SandboxdConfig {
  /** Per-session bearer token every HTTP request must carry. */
  token: string;
  /** Where to listen: a unix socket path, or a TCP host and port (port 0 = pick one). */
  listen: { socketPath: string } | { host: string; port: number };
  /** Folder private to sandboxd (journal, state, workspace baseline); never visible to the agent. */
  stateDir: string;
  workspace: {
    /** The workspace as sandboxd sees it. */
    hostPath: string;
    /** The same folder as the agent sees it (paths in `fs/*` requests); equal to hostPath when not remapped. */
    sandboxPath: string;
  };
  /** The agent: argv run with `wrap` prepended; cwd is the workspace (as the agent sees it). */
  agent: { argv: string[]; env: Record<string, string> };
  /**
   * Prefix for every process sandboxd starts inside the sandbox (the agent and `terminal/create`
   * commands), e.g. a bubblewrap command line ending in `--`. Empty when sandboxd already runs inside.
   */
  wrap: string[];
  /** Files (`cgroup.procs` of cgroups made by the provider) the agent's pid is written to right after spawn. */
  cgroupProcs?: string[];
  /**
   * Setup commands, run once per sandbox before the agent starts (a marker in `stateDir` records that they
   * ran), and services started before the agent on every start of the relay.
   */
  setup?: SessionSetup;
  /** Bounds. */
  limits?: {
    maxTerminalOutputBytes?: number;
    maxDiffBytes?: number;
    maxLineBytes?: number;
    /** Files the workspace snapshot follows (0 turns change detection off; fs writes still give records). */
    maxWatchedFiles?: number;
    /** Bytes of small text files' content kept to diff against (the rest is compared by size, time and hash). */
    maxKeptBytes?: number;
  };
  /**
   * How long the relay keeps its agent with no control plane attached (no request open, none made); then
   * it stops the agent and ends, its journal kept for the session to resume later. Default an hour.
   */
  orphanGraceMs?: number;
  /**
   * A disk quota the relay enforces by measuring: when `paths` hold more than `bytes`, the agent and its
   * commands are killed and the exit record says `reason: "disk_limit"`. Measured every `intervalMs` (10 s).
   */
  diskLimit?: { bytes: number; paths: string[]; intervalMs?: number };
}

/** What sandboxd writes to `<stateDir>/sandboxd.json` once it listens. */
export interface SandboxdState {
  pid: number;
  agentPid: number | null;
  listen: { socketPath: string } | { host: string; port: number };
  startedAt: number;
  /** Set when `pid` is a host relay serving several sandboxes (its folder): the process is not this sandbox's alone. */
  host?: string;
}
