/**
 * @module env — the E2B provider's configuration from the environment. The provider is on when
 * `E2B_API_KEY` is set.
 *
 * | variable | meaning | default |
 * | --- | --- | --- |
 * | `E2B_API_KEY` | E2B API key; turns the `e2b` provider on | none: off |
 * | `E2B_API_URL`, `E2B_SANDBOX_URL`, `E2B_DOMAIN` | where the SDK finds E2B (self-hosted E2B, tests) | E2B's cloud |
 * | `AIRLOCK_E2B_TEMPLATE` | template name or id | `airlock` |
 * | `AIRLOCK_E2B_TIMEOUT_SEC` | sandbox timeout, pushed forward while work goes on | 900 |
 * | `AIRLOCK_E2B_REQUEST_TIMEOUT_MS` | longest wait for one E2B API call | 30000 |
 */
import type { SandboxProviderV1 } from "@airlock/protocol";
import type { UnconfiguredProvider } from "../../sessions/providers.ts";
import { nodeModules } from "../../agents/packages.ts";
import type { Connection } from "./handle.ts";
import { createE2bProvider } from "./index.ts";
import { defaultTemplate } from "./layout.ts";

export function e2bConnectionFromEnv(env: NodeJS.ProcessEnv): Connection {
  return {
    ...(env.E2B_API_KEY ? { apiKey: env.E2B_API_KEY } : {}),
    ...(env.E2B_API_URL ? { apiUrl: env.E2B_API_URL } : {}),
    ...(env.E2B_SANDBOX_URL ? { sandboxUrl: env.E2B_SANDBOX_URL } : {}),
    ...(env.E2B_DOMAIN ? { domain: env.E2B_DOMAIN } : {}),
    // A stuck call must not hold a session's queue for the SDK's default minute.
    requestTimeoutMs: Number(env.AIRLOCK_E2B_REQUEST_TIMEOUT_MS) > 0 ? Number(env.AIRLOCK_E2B_REQUEST_TIMEOUT_MS) : 30_000,
    // The SDK sends a 429-retryable call as a clone of its request, and Node's fetch lets a GC drop the link that
    // carries the abort to a clone (nodejs/undici#4068): requestTimeoutMs then never ends a call E2B leaves unanswered.
    retries: 0,
  };
}

/** Why the `e2b` provider is off, and how to turn it on (null when it is on). */
export function e2bNotConfigured(env: NodeJS.ProcessEnv): UnconfiguredProvider | null {
  if (env.E2B_API_KEY) return null;
  return {
    name: "e2b",
    reason: "E2B_API_KEY is not set",
    fix: "set E2B_API_KEY (https://e2b.dev/dashboard?tab=keys) in the server's environment and restart Airlock; `npm run airlock -- e2b template build` then makes its sandboxes start in seconds",
  };
}

export function e2bProviderFromEnv(
  env: NodeJS.ProcessEnv,
  config: { installationId: string; publicUrl: string | null },
  sandboxdPath: string,
): SandboxProviderV1 | null {
  if (!env.E2B_API_KEY) return null;
  const timeoutSec = Number(env.AIRLOCK_E2B_TIMEOUT_SEC || 900);
  if (!Number.isInteger(timeoutSec) || timeoutSec < 30) throw new Error(`AIRLOCK_E2B_TIMEOUT_SEC must be an integer of at least 30, got "${env.AIRLOCK_E2B_TIMEOUT_SEC}"`);
  return createE2bProvider({
    connection: e2bConnectionFromEnv(env),
    template: env.AIRLOCK_E2B_TEMPLATE || defaultTemplate,
    installationId: config.installationId,
    sandboxdPath,
    hostNodeModules: nodeModules,
    publicUrl: config.publicUrl,
    timeoutMs: timeoutSec * 1000,
  });
}
