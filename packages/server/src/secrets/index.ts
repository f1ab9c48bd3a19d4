/**
 * @module secrets — tenant secrets and sessions' env values: sealed before they reach the store, opened only
 * where they are used (an agent's start, the LLM gateway's upstream call), never returned by the API.
 */
import { type McpServer, type SecretView, type SessionOptions, type StoreV1, type StoredEnvValue, AirlockError, badRequest, notFound } from "@airlock/protocol";
import { SecretBox } from "./box.ts";
import { type LlmCredentials, type UpstreamApi, credentialNames, credentialsOf, upstreamsOf } from "./credentials.ts";

export { SecretBox } from "./box.ts";
export { Masker } from "./mask.ts";
export type { LlmCredentials, UpstreamApi, UpstreamCredential } from "./credentials.ts";

export interface ResolvedEnv {
  env: Record<string, string>;
  /** Values to mask in stored events: every secret, and plain values long enough not to be common words. */
  mask: string[];
}

/** Plain env values shorter than this are not masked ("1", "true", "debug" would mask half of every log). */
export const minMaskedEnvLength = 8;
/** Secrets shorter than this are not masked either: three characters would blank out ordinary words. */
export const minMaskedSecretLength = 4;

const secretContext = (tenant: string, name: string) => `secret:${tenant}:${name}`;
const envContext = (sessionId: string, name: string) => `env:${sessionId}:${name}`;
const mcpContext = (sessionId: string, server: string, index: number) => `mcp:${sessionId}:${server}:${index}`;
const webhookContext = (webhookId: string) => `webhook:${webhookId}`;

export class Secrets {
  constructor(
    private readonly store: StoreV1,
    private readonly box: SecretBox,
  ) {}

  async put(tenant: string, name: string, value: string): Promise<{ secret: SecretView; created: boolean }> {
    const record = await this.store.putSecret({ tenant, name, value: this.box.seal(value, secretContext(tenant, name)), now: Date.now() });
    return { secret: view(record), created: record.createdAt === record.updatedAt };
  }

  async list(tenant: string): Promise<SecretView[]> {
    return (await this.store.listSecrets(tenant)).map(view);
  }

  async delete(tenant: string, name: string): Promise<void> {
    if (!(await this.store.deleteSecret(tenant, name))) throw notFound(`no secret ${name}`);
  }

  /** A new session's MCP servers as they are stored: header values (tokens) and stdio env values sealed. */
  /** A webhook's signing secret as stored: sealed, bound to the webhook. */
  sealWebhookSecret(webhookId: string, secret: string): string {
    return this.box.seal(secret, webhookContext(webhookId));
  }

  /** The signing secret of a stored webhook (one stored in clear by an earlier version is used as it is). */
  openWebhookSecret(webhookId: string, stored: string): string {
    return SecretBox.isSealed(stored) ? this.box.open(stored, webhookContext(webhookId)) : stored;
  }

  sealMcpServers(sessionId: string, servers: McpServer[]): Array<McpServer & { sealed: true }> {
    return servers.map((s) => this.mapMcpValues(s, (value, i) => this.box.seal(value, mcpContext(sessionId, s.name, i))));
  }

  /** A stored MCP server with its values opened, where they are used (the MCP route, the agent's session/new). */
  openMcpServer<S extends McpServer & { sealed?: true }>(sessionId: string, server: S): McpServer {
    if (!server.sealed) return server;
    const { sealed: _sealed, ...opened } = this.mapMcpValues(server, (value, i) => this.box.open(value, mcpContext(sessionId, server.name, i)));
    return opened as McpServer;
  }

  private mapMcpValues(server: McpServer, map: (value: string, index: number) => string): McpServer & { sealed: true } {
    if ("url" in server) return { ...server, headers: server.headers.map((h, i) => ({ name: h.name, value: map(h.value, i) })), sealed: true };
    return { ...server, env: server.env.map((e, i) => ({ name: e.name, value: map(e.value, i) })), sealed: true };
  }

  /**
   * A new session's env as it is stored: references checked (an unknown name is a 400 naming the variable, and
   * nothing is created) and plain values sealed.
   */
  async sealEnv(tenant: string, sessionId: string, env: Record<string, string | { secret: string }>): Promise<Record<string, StoredEnvValue>> {
    const wanted = [...new Set(Object.values(env).flatMap((v) => (typeof v === "string" ? [] : [v.secret])))];
    const have = new Set((await this.store.getSecrets(tenant, wanted)).map((s) => s.name));
    const sealed: Record<string, StoredEnvValue> = {};
    for (const [name, value] of Object.entries(env)) {
      if (typeof value === "string") sealed[name] = { sealed: this.box.seal(value, envContext(sessionId, name)) };
      else if (have.has(value.secret)) sealed[name] = { secret: value.secret };
      else throw badRequest(`invalid env.${name}: no secret named "${value.secret}" in this tenant (create it with PUT /v1/secrets/${value.secret})`, [{ path: `env.${name}`, message: "unknown secret" }]);
    }
    return sealed;
  }

  /**
   * The env an agent starts with: sealed values opened, references read now (a secret replaced since the
   * session began applies from its next agent start). A secret deleted since then is an error naming it.
   */
  async resolveEnv(tenant: string, sessionId: string, env: SessionOptions["env"], options: { lenient?: boolean } = {}): Promise<ResolvedEnv> {
    const entries = Object.entries(env ?? {});
    const names = [...new Set(entries.flatMap(([, v]) => (typeof v === "object" && "secret" in v ? [v.secret] : [])))];
    const secrets = new Map((await this.store.getSecrets(tenant, names)).map((s) => [s.name, this.box.open(s.value, secretContext(tenant, s.name))]));
    const out: Record<string, string> = {};
    const mask: string[] = [];
    for (const [name, value] of entries) {
      if (typeof value === "string") {
        out[name] = value;
        if (value.length >= minMaskedEnvLength) mask.push(value);
      } else if ("sealed" in value) {
        out[name] = this.box.open(value.sealed, envContext(sessionId, name));
        if (out[name].length >= minMaskedEnvLength) mask.push(out[name]);
      } else {
        const secret = secrets.get(value.secret);
        if (secret === undefined && options.lenient) continue;
        if (secret === undefined) throw new AirlockError("conflict", `env.${name} refers to the secret "${value.secret}", which no longer exists; create it again`);
        out[name] = secret;
        if (secret.length >= minMaskedSecretLength) mask.push(secret);
      }
    }
    return { env: out, mask };
  }

  /** The tenant's own LLM credentials (secrets with well-known names), for the gateway and `/v1/agents`. */
  async llmCredentials(tenant: string): Promise<LlmCredentials> {
    const found = await this.store.getSecrets(tenant, credentialNames);
    return credentialsOf(Object.fromEntries(found.map((s) => [s.name, this.box.open(s.value, secretContext(tenant, s.name))])));
  }

  /** The upstreams the tenant has its own credentials for (no value opened). */
  async upstreams(tenant: string): Promise<Set<UpstreamApi>> {
    return upstreamsOf(new Set((await this.store.getSecrets(tenant, credentialNames)).map((s) => s.name)));
  }
}

/** What the session view shows of its env: names, and which secret a variable comes from; never a value. */
export function envView(env: SessionOptions["env"]): Record<string, "***" | { secret: string }> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, typeof v === "object" && "secret" in v ? { secret: v.secret } : "***"]));
}

function view(r: { name: string; createdAt: number; updatedAt: number }): SecretView {
  return { name: r.name, createdAt: new Date(r.createdAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString() };
}
