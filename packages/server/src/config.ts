/**
 * @module config — Airlock's configuration, read from the environment (DESIGN.md "Running it").
 */
import { mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { readOrCreate } from "./shared-file.ts";
import { type EnvApiKey, parseEnvApiKeys } from "./store/api-key.ts";
import { type DeliverySettings, defaultDeliverySettings as d } from "./webhooks/policy.ts";

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Keys accepted besides those made with `airlock keys create`, each with its tenant. */
  apiKeys: EnvApiKey[];
  allowCustomAgent: boolean;
  /** Local sandboxes share one relay process (AIRLOCK_SHARED_RELAY=0: one relay process each). */
  sharedRelay: boolean;
  /** Disk for a local sandbox's workspace and home, in MiB (AIRLOCK_DISK_LIMIT_MB, default 10 GiB; 0: none). */
  diskLimitMb: number;
  /** How often the relay measures it (AIRLOCK_DISK_CHECK_SEC, default 10). */
  diskCheckSec: number;
  databaseUrl: string | null;
  /** Public base URL of this control plane (E2B sandboxes reach the gateway there). */
  publicUrl: string | null;
  /** Distinguishes this installation's sandboxes from others' (orphan reaping). */
  installationId: string;
  defaultIdleTimeoutSec: number;
  /**
   * How long a local sandbox's relay and agent outlive a stopped server (no control plane attached) before the
   * relay stops them, journal kept; null: each session's idle timeout.
   */
  orphanGraceSec: number | null;
  /** Sessions a tenant may have alive at once. */
  maxLiveSessionsPerTenant: number;
  /** Agent crashes in a row, without a completed turn, after which a session fails instead of restarting it. */
  maxAgentCrashes: number;
  logLevel: string;
  /** The LLM gateway's upstream: the real key never enters a sandbox. */
  anthropicApiKey: string | null;
  anthropicBaseUrl: string;
  /** The gateway's OpenAI-compatible upstream (Codex), base URL ending in `/v1`. */
  openaiApiKey: string | null;
  openaiBaseUrl: string;
  /** The gateway's Gemini upstream (Gemini CLI), base URL without the API version. */
  geminiApiKey: string | null;
  geminiBaseUrl: string;
  /** Operator opt-in: hand the real key to sandboxes that cannot reach the gateway. */
  passRealKey: boolean;
  /** Days after a session ended (stopped or failed) before it is purged, log and all; null keeps everything. */
  retentionDays: number | null;
  /** Hours a failed, idle-stopped or paused session keeps its sandbox; null keeps them until DELETE. */
  sandboxRetentionHours: number | null;
  /** How often the retention sweeper looks for work (it also runs at once after a purge). */
  sweepIntervalSec: number;
  /**
   * `AIRLOCK_SECRET_KEY`: the key that seals secrets and env values (32 bytes, base64 or hex). Unset, one is made
   * in the data folder on the first start; nodes sharing a database must share it.
   */
  secretKey: string | null;
  /** Webhook delivery: timeout, attempts before a pause, backoff, batch size (webhooks/policy.ts). */
  webhooks: DeliverySettings;
  /** This node's id among the nodes on one store (AIRLOCK_NODE_ID; generated at every start when unset). */
  nodeId: string;
  /** How long a session's lease lasts without renewal: a dead owner's sessions move after this. */
  leaseTtlMs: number;
  /** How often an owner renews its leases (and looks for expired ones to take over). */
  leaseRenewMs: number;
  /** How often a node reads new events of sessions it streams but does not own, whatever the doorbell said. */
  followPollMs: number;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.AIRLOCK_DATA_DIR || "./.airlock");
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return {
    host: env.AIRLOCK_HOST || "127.0.0.1",
    port: intOf(env.AIRLOCK_PORT, 4600, "AIRLOCK_PORT"),
    dataDir,
    apiKeys: parseEnvApiKeys(env.AIRLOCK_API_KEYS),
    allowCustomAgent: env.AIRLOCK_ALLOW_CUSTOM_AGENT === "1" || env.AIRLOCK_ALLOW_CUSTOM_AGENT === "true",
    sharedRelay: env.AIRLOCK_SHARED_RELAY !== "0" && env.AIRLOCK_SHARED_RELAY !== "false",
    diskLimitMb: intOf(env.AIRLOCK_DISK_LIMIT_MB, 10 * 1024, "AIRLOCK_DISK_LIMIT_MB"),
    diskCheckSec: Math.max(1, intOf(env.AIRLOCK_DISK_CHECK_SEC, 10, "AIRLOCK_DISK_CHECK_SEC")),
    databaseUrl: env.DATABASE_URL || null,
    publicUrl: env.AIRLOCK_PUBLIC_URL || null,
    installationId: installationId(dataDir),
    defaultIdleTimeoutSec: intOf(env.AIRLOCK_IDLE_TIMEOUT_SEC, 900, "AIRLOCK_IDLE_TIMEOUT_SEC"),
    orphanGraceSec: positiveOrOff(env.AIRLOCK_ORPHAN_GRACE_SEC, "AIRLOCK_ORPHAN_GRACE_SEC"),
    maxLiveSessionsPerTenant: intOf(env.AIRLOCK_MAX_SESSIONS, 1000, "AIRLOCK_MAX_SESSIONS"),
    maxAgentCrashes: Math.max(1, intOf(env.AIRLOCK_MAX_AGENT_CRASHES, 3, "AIRLOCK_MAX_AGENT_CRASHES")),
    logLevel: env.AIRLOCK_LOG_LEVEL || "info",
    anthropicApiKey: env.ANTHROPIC_API_KEY || null,
    anthropicBaseUrl: env.ANTHROPIC_BASE_URL || "https://api.anthropic.com",
    openaiApiKey: env.OPENAI_API_KEY || null,
    openaiBaseUrl: env.OPENAI_BASE_URL || "https://api.openai.com/v1",
    geminiApiKey: env.GEMINI_API_KEY || null,
    geminiBaseUrl: env.GOOGLE_GEMINI_BASE_URL || "https://generativelanguage.googleapis.com",
    passRealKey: env.AIRLOCK_PASS_REAL_KEY === "1",
    retentionDays: positiveOrOff(env.AIRLOCK_RETENTION_DAYS, "AIRLOCK_RETENTION_DAYS"),
    sandboxRetentionHours: positiveOrOff(env.AIRLOCK_SANDBOX_RETENTION_HOURS, "AIRLOCK_SANDBOX_RETENTION_HOURS"),
    sweepIntervalSec: positiveOrOff(env.AIRLOCK_SWEEP_INTERVAL_SEC, "AIRLOCK_SWEEP_INTERVAL_SEC") ?? 60,
    secretKey: env.AIRLOCK_SECRET_KEY || null,
    webhooks: {
      timeoutMs: Math.max(1, intOf(env.AIRLOCK_WEBHOOK_TIMEOUT_MS, d.timeoutMs, "AIRLOCK_WEBHOOK_TIMEOUT_MS")),
      maxAttempts: Math.max(1, intOf(env.AIRLOCK_WEBHOOK_MAX_ATTEMPTS, d.maxAttempts, "AIRLOCK_WEBHOOK_MAX_ATTEMPTS")),
      pauseAfterMs: intOf(env.AIRLOCK_WEBHOOK_PAUSE_AFTER_SEC, d.pauseAfterMs / 1000, "AIRLOCK_WEBHOOK_PAUSE_AFTER_SEC") * 1000,
      backoffMs: Math.max(1, intOf(env.AIRLOCK_WEBHOOK_BACKOFF_MS, d.backoffMs, "AIRLOCK_WEBHOOK_BACKOFF_MS")),
      maxBackoffMs: Math.max(1, intOf(env.AIRLOCK_WEBHOOK_MAX_BACKOFF_MS, d.maxBackoffMs, "AIRLOCK_WEBHOOK_MAX_BACKOFF_MS")),
      batchSize: Math.min(1000, Math.max(1, intOf(env.AIRLOCK_WEBHOOK_BATCH_SIZE, d.batchSize, "AIRLOCK_WEBHOOK_BATCH_SIZE"))),
      concurrency: Math.max(1, intOf(env.AIRLOCK_WEBHOOK_CONCURRENCY, d.concurrency, "AIRLOCK_WEBHOOK_CONCURRENCY")),
      pollMs: d.pollMs,
    },
    ...leaseSettings(env),
  };
}

function leaseSettings(env: NodeJS.ProcessEnv) {
  const nodeId = env.AIRLOCK_NODE_ID?.trim() || `node_${randomBytes(6).toString("hex")}`;
  if (!/^[\w.:-]{1,64}$/.test(nodeId)) throw new Error(`AIRLOCK_NODE_ID must be 1-64 letters, digits, "_", "-", "." or ":", got "${nodeId}"`);
  const leaseTtlMs = intOf(env.AIRLOCK_LEASE_TTL_MS, 10_000, "AIRLOCK_LEASE_TTL_MS");
  const leaseRenewMs = intOf(env.AIRLOCK_LEASE_RENEW_MS, 2000, "AIRLOCK_LEASE_RENEW_MS");
  // Renewing less often than the lease lasts would let a live owner's sessions move away.
  if (leaseRenewMs < 50 || leaseRenewMs * 2 > leaseTtlMs) {
    throw new Error(`AIRLOCK_LEASE_RENEW_MS (${leaseRenewMs}) must be at least 50 and at most half of AIRLOCK_LEASE_TTL_MS (${leaseTtlMs})`);
  }
  const followPollMs = Math.max(50, intOf(env.AIRLOCK_FOLLOW_POLL_MS, 1000, "AIRLOCK_FOLLOW_POLL_MS"));
  return { nodeId, leaseTtlMs, leaseRenewMs, followPollMs };
}

/** A positive number (fractions allowed: `0.5` days); unset or 0 is off (null). */
function positiveOrOff(value: string | undefined, name: string): number | null {
  if (value === undefined || value.trim() === "") return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${value}"`);
  return n === 0 ? null : n;
}

function intOf(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** A stable id for this data folder, made once. */
function installationId(dataDir: string): string {
  return readOrCreate(join(dataDir, "installation-id"), () => randomBytes(8).toString("hex"));
}
