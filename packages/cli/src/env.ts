/**
 * @module env — where the server is (`AIRLOCK_URL`, `AIRLOCK_API_KEY`), and failures told with their fix.
 */
import { AirlockApiError, AirlockClient } from "@airlock/client";

export const defaultUrl = "http://127.0.0.1:4600";

export interface CliEnv {
  url: string;
  apiKey: string | undefined;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  return { url: (env.AIRLOCK_URL || defaultUrl).replace(/\/+$/, ""), apiKey: env.AIRLOCK_API_KEY || undefined };
}

export function clientOf(env: CliEnv): AirlockClient {
  return new AirlockClient({ baseUrl: env.url, apiKey: env.apiKey, retry: { retries: 3 } });
}

/** A failure as one or two lines a person can act on. */
export function explain(err: unknown, env: CliEnv): string {
  if (!AirlockApiError.is(err)) return (err as Error)?.message ?? String(err);
  if (err.status === 0) {
    return (
      `cannot reach the Airlock server at ${env.url} (${networkReason(err.cause)}).\n` +
      `Start one with \`npm start\` (or \`airlock serve\`) in the Airlock checkout, or point AIRLOCK_URL at a running server.`
    );
  }
  if (err.status === 401) {
    return env.apiKey
      ? `the server at ${env.url} refused AIRLOCK_API_KEY (${err.message}). Make a new key with \`airlock keys create\` on the server's host.`
      : `the server at ${env.url} wants an API key (${err.message}). Set AIRLOCK_API_KEY (make one with \`airlock keys create\` on the server's host).`;
  }
  if (err.status === 404 && /no session/.test(err.message)) return `${err.message}; \`airlock ls\` lists the sessions of this API key's tenant`;
  return `${err.message} (HTTP ${err.status} ${err.code})`;
}

/** undici says "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is on its cause. */
function networkReason(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return inner?.code ?? inner?.message ?? (cause as Error | undefined)?.message ?? "unreachable";
}
