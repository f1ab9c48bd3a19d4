/**
 * @module client — `AirlockClient`, the entry point of the SDK.
 */
import type { AgentView, CreateSession, HealthView } from "@airlock/protocol";
import { type CallOptions, type ClientOptions, Transport } from "./http.ts";
import { SecretsApi } from "./secrets.ts";
import { Session } from "./session.ts";
import { SessionsApi } from "./sessions.ts";
import { WebhooksApi } from "./webhooks.ts";

/**
 * A client of one Airlock server. Uses only `fetch`, web streams, `TextDecoder` and `AbortSignal`: it runs in
 * Node 20+, browsers and edge runtimes alike.
 *
 * @example
 * const airlock = new AirlockClient({ baseUrl: "http://127.0.0.1:4600", apiKey: process.env.AIRLOCK_API_KEY });
 * const session = await airlock.createSession({ agent: "scripted" });
 * const result = await session.run("write notes.md hello");
 * console.log(result.stopReason, result.text);
 */
export class AirlockClient {
  /** Every `/v1/sessions` call, by session id. */
  readonly sessions: SessionsApi;
  /** The tenant's secrets (write-only values). */
  readonly secrets: SecretsApi;
  /** The tenant's webhooks: create, list, get, delete, deliveries, resume. */
  readonly webhooks: WebhooksApi;
  private readonly transport: Transport;

  constructor(options: ClientOptions = {}) {
    this.transport = new Transport(options);
    this.sessions = new SessionsApi(this.transport);
    this.secrets = new SecretsApi(this.transport);
    this.webhooks = new WebhooksApi(this.transport);
  }

  /** Where this client sends its calls ("" for the page's own origin). */
  get baseUrl(): string {
    return this.transport.baseUrl;
  }

  /** `GET /healthz`: liveness and what the server has configured (store, providers, agents). */
  health(options: Pick<CallOptions, "signal"> = {}): Promise<HealthView> {
    return this.transport.request({ method: "GET", path: "/healthz", signal: options.signal });
  }

  /** The agents this server offers, with `available` and, where not, why and the fix. */
  async agents(options: Pick<CallOptions, "signal"> = {}): Promise<AgentView[]> {
    return (await this.transport.request<{ agents: AgentView[] }>({ method: "GET", path: "/v1/agents", signal: options.signal })).agents;
  }

  /** Creates a session and returns its handle (its sandbox is made in the background: status `provisioning`). */
  async createSession(body: CreateSession, options: Pick<CallOptions, "signal"> = {}): Promise<Session> {
    const view = await this.sessions.create(body, options);
    return new Session(this.sessions, view.id, view);
  }

  /** A handle on an existing session (no call is made until one of its methods is used). */
  session(id: string): Session {
    return new Session(this.sessions, id);
  }
}
