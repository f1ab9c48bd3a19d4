/**
 * @module secrets — `airlock.secrets`: the tenant's secrets. Values are write-only: `put` sends one, and no call
 * ever returns it (`list` gives names and dates).
 */
import type { SecretView } from "@airlock/protocol";
import type { CallOptions, Transport } from "./http.ts";

const secretPath = (name: string) => `/v1/secrets/${encodeURIComponent(name)}`;

/** The `/v1/secrets` calls. Reached as `airlock.secrets`. */
export class SecretsApi {
  constructor(private readonly transport: Transport) {}

  /**
   * Creates or replaces a secret. Sessions that reference it (`env: {NAME: {secret: "NAME"}}`) get the new value
   * at their agent's next start; the gateway uses a credential (`ANTHROPIC_API_KEY`, `CLAUDE_CODE_OAUTH_TOKEN`,
   * `OPENAI_API_KEY`, `GEMINI_API_KEY`) from its next call.
   *
   * @example
   * await airlock.secrets.put("GITHUB_TOKEN", process.env.GITHUB_TOKEN!);
   * await airlock.createSession({ agent: "claude", env: { GH_TOKEN: { secret: "GITHUB_TOKEN" } } });
   */
  put(name: string, value: string, options: Pick<CallOptions, "signal"> = {}): Promise<SecretView> {
    return this.transport.request({ method: "PUT", path: secretPath(name), body: { value }, signal: options.signal });
  }

  /** The tenant's secrets: names, when made and last replaced; never values. */
  async list(options: Pick<CallOptions, "signal"> = {}): Promise<SecretView[]> {
    return (await this.transport.request<{ secrets: SecretView[] }>({ method: "GET", path: "/v1/secrets", signal: options.signal })).secrets;
  }

  /** Deletes a secret (404 when there is none). Sessions referring to it fail their next agent start. */
  async delete(name: string, options: Pick<CallOptions, "signal"> = {}): Promise<void> {
    await this.transport.request({ method: "DELETE", path: secretPath(name), signal: options.signal });
  }
}
