/**
 * @module errors — E2B's failures turned into AirlockErrors a person can act on, at the provider's boundary.
 *
 * The SDK's error classes are recognised by `name` (a second copy of the SDK would fail `instanceof`), and
 * `details.e2b` says which kind it was, so the session log and tests can tell them apart.
 */
import { AirlockError } from "@airlock/protocol";

export type E2bFailure = "auth" | "quota" | "rate_limit" | "template_missing" | "sandbox_gone" | "timeout" | "busy" | "command" | "failed";

interface SdkError {
  name?: string;
  message?: string;
  statusCode?: number;
  exitCode?: number;
  stderr?: string;
  stdout?: string;
}

export function e2bError(err: unknown, doing: string, context: { template?: string; sandboxId?: string } = {}): AirlockError {
  if (AirlockError.is(err)) return err;
  const e = (err ?? {}) as SdkError;
  const message = (e.message ?? String(err)).trim();
  const fail = (code: ConstructorParameters<typeof AirlockError>[0], kind: E2bFailure, text: string) =>
    new AirlockError(code, text, { e2b: kind, ...(context.sandboxId ? { sandboxId: context.sandboxId } : {}) }, { cause: err });

  switch (e.name) {
    case "AuthenticationError":
      return fail("unavailable", "auth", `E2B rejected the API key while ${doing}: ${message}. Fix: set a valid E2B_API_KEY and restart Airlock`);
    case "RateLimitError":
      return /concurrent/i.test(message)
        ? fail("too_many_requests", "quota", `E2B sandbox quota reached while ${doing}: ${message}`)
        : fail("too_many_requests", "rate_limit", `E2B is rate limiting requests (${doing}): ${message}; try again shortly`);
    case "ServiceBusyError":
      return fail("unavailable", "busy", `E2B has no capacity right now (${doing}): ${message}; try again shortly`);
    case "SandboxNotFoundError":
      return fail("unavailable", "sandbox_gone", `the E2B sandbox${context.sandboxId ? ` ${context.sandboxId}` : ""} is gone (killed, or its timeout ran out) while ${doing}`);
    case "TimeoutError":
      return fail("unavailable", "timeout", `E2B timed out while ${doing}: ${message}`);
    case "CommandExitError": {
      const output = (e.stderr || e.stdout || "").trim().split("\n").slice(-5).join("\n");
      return fail("unavailable", "command", `${doing} failed in the sandbox (exit ${e.exitCode}): ${output || message}`);
    }
  }
  if (e.statusCode === 404 && context.template) {
    return fail("unavailable", "template_missing", `the E2B template "${context.template}" does not exist. Fix: run \`airlock e2b template build\``);
  }
  if (e.statusCode === 404) return fail("unavailable", "sandbox_gone", `the E2B sandbox${context.sandboxId ? ` ${context.sandboxId}` : ""} is gone while ${doing}`);
  if (e.statusCode === 429) return fail("too_many_requests", "rate_limit", `E2B refused the request (${doing}): ${message}`);
  return fail("unavailable", "failed", `E2B failed while ${doing}: ${message}`);
}

/** True for the SDK's "the sandbox is not there (any more)" family: a paused or killed VM looks like this. */
export function isGone(err: unknown): boolean {
  const e = (err ?? {}) as SdkError;
  return e.name === "SandboxNotFoundError" || e.name === "TimeoutError" || e.statusCode === 404 || e.statusCode === 502;
}

/** True for a missing template on create (the SDK gives a plain SandboxError with status 404). */
export function isTemplateMissing(err: unknown): boolean {
  const e = (err ?? {}) as SdkError;
  return e.statusCode === 404 && /template/i.test(e.message ?? "");
}
