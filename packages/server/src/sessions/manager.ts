/**
 * @module manager — the sessions of this control plane: create, find, command, recover after a restart,
 * stop idle ones, reap orphaned sandboxes.
 */
import type { ContentBlock } from "@agentclientprotocol/sdk";
import {
  type LeaseRecord,
  type AnswerInteraction,
  type CreateSession,
  type EventRow,
  type IdempotencyRecord,
  type McpServerHttp,
  type Prompt,
  type SandboxHandle,
  type ServiceList,
  type ServiceLog,
  type SessionRecord,
  type SessionView,
  type StoreV1,
  AirlockError,
  conflict,
  isFenced,
  limits,
  newId,
  notFound,
  type WebhookView,
} from "@airlock/protocol";
import type { AgentRegistry } from "../agents/registry.ts";
import type { ClusterNode, LeaseHolder } from "../cluster/node.ts";
import type { Config } from "../config.ts";
import type { Gateway } from "../gateway/index.ts";
import type { Logger } from "../log.ts";
import { RetentionSweeper } from "../retention/sweeper.ts";
import { type LlmCredentials, type Secrets } from "../secrets/index.ts";
import type { EventBus } from "./bus.ts";
import { SessionDriver } from "./driver.ts";
import { serviceList } from "./services.ts";
import { answerRecord, promptRecord, replayAnswer, replayPrompt } from "./idempotency.ts";
import { checkMcpServers, isRemote } from "./mcp-servers.ts";
import { reapOrphans } from "./orphans.ts";
import { checkPromptable, checkSeed, isLive, newSessionRecord, sessionView } from "./records.ts";
import type { ProviderRegistry } from "./providers.ts";
import { type RemoteDeps, remoteAnswer, remoteCancel, remoteDelete, remoteKeepalive, remotePrompt } from "./remote.ts";
import { newWebhookRecord, webhookView } from "../webhooks/views.ts";

export interface ManagerDeps {
  store: StoreV1;
  bus: EventBus;
  agents: AgentRegistry;
  providers: ProviderRegistry;
  log: Logger;
  config: Config;
  gateway: Gateway;
  secrets: Secrets;
  cluster: ClusterNode;
}

export class SessionManager implements LeaseHolder {
  private readonly drivers = new Map<string, SessionDriver>();
  /**
   * Leases of retired sessions on their way back to the store. A claim must wait for them: on a pooled store a
   * claim that overtook the release would be undone by it, leaving a driven session without an owner.
   */
  private readonly releasing = new Map<string, Promise<void>>();
  private sweeper: NodeJS.Timeout | null = null;
  private readonly retention: RetentionSweeper;

  constructor(private readonly deps: ManagerDeps) {
    const { config } = deps;
    this.retention = new RetentionSweeper({
      store: deps.store,
      policy: { retentionDays: config.retentionDays, sandboxRetentionHours: config.sandboxRetentionHours },
      intervalMs: config.sweepIntervalSec * 1000,
      removeSandbox: (session, reason) => this.removeSandbox(session, reason),
      log: deps.log,
    });
  }

  /**
   * Takes (and re-attaches to) every live session no node drives — with one node, all of them after a restart —,
   * reaps orphaned sandboxes, starts the idle sweeper.
   */
  async start(): Promise<void> {
    await this.deps.cluster.start(this);
    await reapOrphans(this.deps.providers, this.deps.store, this.deps.config.installationId, this.deps.log).catch((err) => this.deps.log.warn({ err }, "orphan reaping failed"));
    this.sweeper = setInterval(() => this.sweepIdle(), 1000);
    this.sweeper.unref();
    this.retention.start();
  }

  /**
   * Stops driving sessions and hands their leases back, so other nodes take them at once; sandboxes keep running
   * and are re-attached by whichever node takes them (or by this one's next start).
   */
  async close(): Promise<void> {
    await this.retention.stop();
    if (this.sweeper) clearInterval(this.sweeper);
    for (const driver of this.drivers.values()) driver.detach();
    const owned = [...this.drivers.keys()];
    this.drivers.clear();
    this.deps.gateway.closeAll();
    await this.deps.cluster.stop(owned);
  }

  // ---- leases (cluster/node.ts)

  owned(): Array<{ sessionId: string; epoch: number }> {
    return [...this.drivers.values()].flatMap((d) => (d.epoch === null ? [] : [{ sessionId: d.id, epoch: d.epoch }]));
  }

  lost(sessionId: string, epoch: number): void {
    const driver = this.drivers.get(sessionId);
    if (!driver || driver.epoch !== epoch) return;
    this.deps.log.warn({ session: sessionId }, "cluster: the lease is gone; letting the session go");
    driver.letGo();
    this.drivers.delete(sessionId);
  }

  async adopt(sessionId: string, lease: LeaseRecord): Promise<void> {
    const current = this.drivers.get(sessionId);
    if (current?.epoch === lease.epoch) return;
    // Our own lease lapsed (the event loop stalled past the TTL) and we took it again under a new epoch: the old
    // driver's commits would be refused, so it goes and a new one starts from the store.
    if (current?.epoch != null) this.lost(sessionId, current.epoch);
    const session = await this.deps.store.getSession(sessionId);
    if (!session) return;
    this.attachDriver(session, lease.epoch);
  }

  wake(sessionId: string): void {
    const driver = this.drivers.get(sessionId);
    if (!driver) return;
    driver
      .wake()
      .then((deleted) => (deleted ? driver.stop("deleted", true) : undefined))
      .catch((err) => this.deps.log.warn({ err, session: sessionId }, "cluster: acting on commands failed"));
  }

  /** Re-attaches to a live session from its stored journal offset (as after a restart), then looks for commands. */
  private attachDriver(session: SessionRecord, epoch: number): SessionDriver {
    const driver = this.newDriver(session, epoch);
    driver
      .attach()
      .then(() => this.wake(session.id))
      .catch((err) => this.deps.log.error({ err, session: session.id }, "re-attach failed"));
    return driver;
  }

  /**
   * The local driver of a session, taking the session's lease first when no node holds it (its owner died, or it
   * is stopped and gets work); null when another node drives it.
   */
  private async acquire(session: SessionRecord): Promise<SessionDriver | null> {
    const existing = this.drivers.get(session.id);
    if (existing) return existing;
    await this.releasing.get(session.id);
    const lease = await this.deps.store.claimSession(session.id, this.deps.cluster.id, this.deps.config.leaseTtlMs);
    if (!lease) return null;
    const fresh = (await this.deps.store.getSession(session.id)) ?? session;
    const again = this.drivers.get(session.id);
    if (again) return again;
    if (fresh.status === "stopped" || fresh.status === "failed") return this.newDriver(fresh, lease.epoch);
    return this.attachDriver(fresh, lease.epoch);
  }

  /**
   * Runs a command on this node's driver of the session (taking the lease when no node holds it), or records it
   * for the node that drives it. A lease lost while the command ran here refused all of what it stored: it runs
   * again the same way, now on the new owner's behalf.
   */
  private async onOwner<T>(session: SessionRecord, local: (driver: SessionDriver) => Promise<T>, remote: (current: SessionRecord) => Promise<T>): Promise<T> {
    const driver = await this.acquire(session);
    if (!driver) return remote(session);
    try {
      return await local(driver);
    } catch (err) {
      if (!isFenced(err)) throw err;
      const current = (await this.deps.store.getSession(session.id)) ?? session;
      const again = await this.acquire(current);
      return again ? local(again) : remote(current);
    }
  }

  private get remote(): RemoteDeps {
    return { store: this.deps.store, ring: (id) => this.deps.cluster.ring(id) };
  }

  async create(tenant: string, body: CreateSession): Promise<SessionView & { webhook?: WebhookView }> {
    const { config, store, agents, providers } = this.deps;
    const agent = agents.require(body.agent, await this.deps.secrets.upstreams(tenant));
    if (body.review && !agent.review) throw new AirlockError("bad_request", `agent "${body.agent}" cannot review its own changes; \`review\` is for the built-in agent ("airlock")`);
    const provider = providers.require(body.provider ?? providers.defaultName);
    if (body.agent === "custom" && !body.command) throw new AirlockError("bad_request", 'agent "custom" needs `command`: the agent\'s argv, e.g. ["node", "agent.js"]');
    if (body.agent !== "custom" && body.command) throw new AirlockError("bad_request", "`command` is only for agent \"custom\"");
    if (body.workspace?.files) checkSeed(body.workspace.files);
    if (body.mcpServers?.length) {
      checkMcpServers(agent, body.mcpServers);
      if (body.mcpServers.some(isRemote) && !this.deps.gateway.reachable(provider.name)) {
        throw new AirlockError("bad_request", `invalid mcpServers: sandboxes of provider "${provider.name}" reach HTTP MCP servers through the control plane at AIRLOCK_PUBLIC_URL, which is not set`);
      }
    }
    if (body.network && !provider.capabilities.network) throw new AirlockError("bad_request", `provider "${provider.name}" cannot give sandboxes network access here`);
    if ((await store.countLiveSessions(tenant)) >= config.maxLiveSessionsPerTenant) {
      throw new AirlockError("too_many_requests", `this tenant already has ${config.maxLiveSessionsPerTenant} live sessions; delete some first`);
    }
    const id = newId("session");
    // Checked before anything is made: an unknown secret is a 400 naming the variable.
    const env = body.env ? await this.deps.secrets.sealEnv(tenant, id, body.env) : undefined;
    const now = Date.now();
    const session = newSessionRecord(id, tenant, body, provider.name, config.defaultIdleTimeoutSec, now, {
      ...(env ? { env } : {}),
      ...(body.mcpServers?.length ? { mcpServers: this.deps.secrets.sealMcpServers(id, body.mcpServers) } : {}),
    });
    // The node that makes a session drives it.
    session.lease = { node: this.deps.cluster.id, epoch: 1, expiresAt: now + config.leaseTtlMs };
    const webhook = body.webhook ? newWebhookRecord(tenant, body.webhook, (id, plain) => this.deps.secrets.sealWebhookSecret(id, plain), session.id) : undefined;
    const rows = await store.createSession(session, [{ type: "session.status", data: { status: "provisioning" } }], webhook?.record, body.workspace);
    this.deps.bus.publish(session.id, rows);
    const driver = this.newDriver({ ...session, lastSeq: rows.length }, 1);
    driver.provision(body.workspace).catch((err) => this.deps.log.error({ err, session: id }, "provisioning failed"));
    const view = await this.view({ ...session, lastSeq: rows.at(-1)?.seq ?? 0 });
    // The session's own webhook, with its signing secret: shown here once.
    return webhook ? { ...view, webhook: webhookView(webhook.record, webhook.secret) } : view;
  }

  async get(tenant: string, id: string): Promise<SessionRecord> {
    const session = await this.deps.store.getSession(id);
    // Another tenant's session looks exactly like a missing one.
    if (!session || session.tenant !== tenant) throw notFound(`no session ${id}`);
    return session;
  }

  async list(tenant: string, query: { status?: SessionRecord["status"]; metadata?: Record<string, string>; before?: string; limit: number }) {
    const sessions = await this.deps.store.listSessions({ tenant, ...query, limit: query.limit + 1 });
    const page = sessions.slice(0, query.limit);
    return { sessions: await Promise.all(page.map((s) => this.view(s))), nextCursor: sessions.length > query.limit ? page.at(-1)!.id : null };
  }

  async view(session: SessionRecord): Promise<SessionView> {
    const [pending, queued] = await Promise.all([
      this.deps.store.listInteractions(session.id, { status: "pending" }),
      this.deps.store.listTurns(session.id, "queued"),
    ]);
    const deadline = this.drivers.get(session.id)?.idleDeadline ?? session.idleDeadline;
    return sessionView(session, pending, queued.length, deadline);
  }

  /** Queues a prompt; with an idempotency key (see idempotency.ts) a retry returns the first turn and queues nothing. */
  async prompt(tenant: string, id: string, body: Prompt, key?: string): Promise<{ turnId: string }> {
    const content: ContentBlock[] = body.text !== undefined ? [{ type: "text", text: body.text }] : (body.content as ContentBlock[]);
    const size = Buffer.byteLength(JSON.stringify(content));
    if (size > limits.maxPromptBytes) throw new AirlockError("payload_too_large", `the prompt is ${size} bytes; the limit is ${limits.maxPromptBytes}`);
    let session = await this.get(tenant, id);
    const request = key === undefined ? undefined : promptRecord(key, content);
    const replay = async () => (request ? replayPrompt(await this.deps.store.findTurnByIdempotencyKey(session.id, request.key), request) : null);
    const first = await replay();
    if (first) return first;
    // A prompt that arrives while an idle stop winds down waits for it, then resumes the session.
    const until = Date.now() + 15_000;
    while (this.drivers.get(session.id)?.status === "stopping" && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    if (!this.drivers.has(session.id)) session = await this.get(tenant, id);
    try {
      checkPromptable(session, this.drivers.has(session.id));
      return await this.onOwner(
        session,
        (driver) => driver.prompt(content, request),
        (current) => remotePrompt(this.remote, current, content, request),
      );
    } catch (err) {
      // A retry that raced the first request lost the insert on the key's unique index: answer as the first did.
      if (request && AirlockError.is(err) && err.code === "conflict") return (await replay()) ?? Promise.reject(err);
      throw err;
    }
  }

  async cancel(tenant: string, id: string) {
    const session = await this.get(tenant, id);
    const driver = isLive(session) ? await this.acquire(session) : this.drivers.get(session.id);
    if (driver === null) return remoteCancel(this.remote, session);
    if (!driver) throw conflict(`no turn is running (the session is ${session.status})`);
    return driver.cancel();
  }

  /** Answers an interaction; with an idempotency key a retry returns the first resolution (200) and changes nothing. */
  async answer(tenant: string, id: string, interactionId: string, body: AnswerInteraction, by: string, key?: string) {
    const session = await this.get(tenant, id);
    const request = key === undefined ? undefined : answerRecord(key, interactionId, body);
    const replay = async () => (request ? replayAnswer(await this.deps.store.findInteractionByIdempotencyKey(session.id, request.key), interactionId, request) : null);
    const first = await replay();
    if (first) return first;
    const driver = isLive(session) ? await this.acquire(session) : this.drivers.get(session.id);
    if (driver === null) return this.answerRemotely(session, interactionId, body, by, request, replay);
    if (!driver) {
      const interaction = await this.deps.store.getInteraction(session.id, interactionId);
      if (!interaction) throw notFound(`no interaction ${interactionId} in session ${id}`);
      throw conflict("this interaction was already answered", { resolution: interaction.resolution });
    }
    try {
      return await driver.answer(interactionId, body, by, request);
    } catch (err) {
      // The lease moved while the answer was being stored here, and nothing of it was: the new owner gets it.
      if (isFenced(err)) return this.answerRemotely((await this.deps.store.getSession(session.id)) ?? session, interactionId, body, by, request, replay);
      // The same retry racing the first: the interaction was resolved under this key meanwhile.
      if (request && AirlockError.is(err) && err.code === "conflict") return (await replay()) ?? Promise.reject(err);
      throw err;
    }
  }

  /** An answer for a session another node drives: resolved in the store here, delivered by the owner. */
  private async answerRemotely(
    session: SessionRecord,
    interactionId: string,
    body: AnswerInteraction,
    by: string,
    request: IdempotencyRecord | undefined,
    replay: () => Promise<Record<string, unknown> | null>,
  ): Promise<Record<string, unknown>> {
    try {
      const { rows, resolution } = await remoteAnswer(this.remote, session, interactionId, body, by, request);
      this.deps.bus.publish(session.id, rows);
      return resolution;
    } catch (err) {
      if (request && AirlockError.is(err) && err.code === "conflict") return (await replay()) ?? Promise.reject(err);
      throw err;
    }
  }

  async keepalive(tenant: string, id: string) {
    const session = await this.get(tenant, id);
    const driver = isLive(session) ? await this.acquire(session) : this.drivers.get(session.id);
    if (driver === null) return remoteKeepalive(this.remote, session);
    if (!driver) throw conflict(`the session is ${session.status}; nothing to keep alive`);
    const { idleDeadline } = driver.keepalive();
    return { idleDeadline: idleDeadline ? new Date(idleDeadline).toISOString() : null };
  }

  async delete(tenant: string, id: string): Promise<void> {
    const session = await this.get(tenant, id);
    if (session.status === "stopped" && !session.sandbox) return;
    await this.removeSandbox(session, "deleted");
  }

  /**
   * DELETE with `purge`: stops the session if it runs and removes its sandbox (as DELETE does), then purges it —
   * from now on it is missing to every request, and the retention sweeper removes its rows in the background.
   */
  async purge(tenant: string, id: string): Promise<void> {
    await this.delete(tenant, id);
    await this.deps.store.requestPurge(id);
    this.retention.kick();
  }

  /**
   * Stops the agent if it runs and destroys the sandbox; the log stays (DELETE, sandbox retention). A session
   * another node drives is stopped by that node.
   */
  private async removeSandbox(session: SessionRecord, reason: string): Promise<void> {
    if (isLive(session)) {
      const driver = await this.acquire(session);
      if (driver === null) return remoteDelete(this.remote, session);
      return driver.stop(reason, true);
    }
    const driver = this.drivers.get(session.id) ?? new SessionDriver(this.driverDeps(), session);
    await driver.stop(reason, true);
  }

  /** The session's services: what it was created with, and how the running relay finds them. */
  async services(tenant: string, id: string): Promise<ServiceList> {
    const session = await this.get(tenant, id);
    return serviceList(session, await this.drivers.get(session.id)?.relayServices());
  }

  /** The last `tail` lines of a service's log, read from the running relay. */
  async serviceLog(tenant: string, id: string, name: string, tail: number): Promise<ServiceLog> {
    const session = await this.get(tenant, id);
    if (!session.options.setup?.services?.some((s) => s.name === name)) throw notFound(`session ${id} has no service "${name}"`);
    const log = await this.drivers.get(session.id)?.serviceLog(name, tail);
    if (!log) throw conflict(`the session is ${session.status}: service logs are read from its running sandbox, and its services run only while its agent does`);
    return { name, ...log };
  }

  /** The sandbox of a session, for workspace files and diffs. */
  async sandbox(tenant: string, id: string): Promise<SandboxHandle> {
    const session = await this.get(tenant, id);
    if (!session.sandbox) throw conflict(session.status === "provisioning" ? "the sandbox is still being made" : "this session's sandbox is gone");
    const handle = await this.deps.providers.get(session.sandbox.provider)?.connect(session.sandbox);
    if (!handle) throw conflict("this session's sandbox is gone");
    return handle;
  }

  /** Raises (or sets, or with null removes) a session's budget; the gateway checks it on every LLM call. */
  async updateBudget(tenant: string, id: string, budgetUsd: number | null): Promise<SessionView> {
    const session = await this.get(tenant, id);
    const { budgetUsd: _old, ...rest } = session.options;
    const options = budgetUsd === null ? rest : { ...rest, budgetUsd };
    await this.deps.store.commit(session.id, { events: [], session: { options } });
    return this.view({ ...session, options });
  }

  // ---- the LLM gateway's view of sessions

  /** The session behind a gateway token, with its tenant's own LLM credentials (read at each call: a replaced key applies at once). */
  async gatewaySession(sessionId: string): Promise<{ budgetUsd: number | null; costUsd: number; credentials: LlmCredentials } | null> {
    const s = await this.deps.store.getSession(sessionId);
    if (!s || s.status === "failed" || (s.status === "stopped" && !s.sandbox)) return null;
    return { budgetUsd: s.options.budgetUsd ?? null, costUsd: s.usage.costUsd, credentials: await this.deps.secrets.llmCredentials(s.tenant) };
  }

  /** The MCP gateway: a live session's remote MCP server by name. */
  async mcpServer(sessionId: string, name: string): Promise<McpServerHttp | null> {
    const s = await this.deps.store.getSession(sessionId);
    if (!s || s.status === "failed" || (s.status === "stopped" && !s.sandbox)) return null;
    const found = (s.options.mcpServers ?? []).find((m) => isRemote(m) && m.name === name);
    return found ? (this.deps.secrets.openMcpServer(s.id, found) as McpServerHttp) : null;
  }

  async recordUsage(sessionId: string, usage: { inputTokens: number; outputTokens: number; costUsd: number; model?: string }): Promise<void> {
    const driver = this.drivers.get(sessionId);
    if (driver) return driver.recordUsage(usage);
    const rows = await this.deps.store.commit(sessionId, { events: [{ type: "usage", data: usage }], addUsage: usage });
    this.deps.bus.publish(sessionId, rows);
  }

  async reportError(sessionId: string, message: string, code: string): Promise<void> {
    const driver = this.drivers.get(sessionId);
    if (driver) return driver.reportError(message, code);
    this.deps.bus.publish(sessionId, await this.deps.store.commit(sessionId, { events: [{ type: "error", data: { message, code } }] }));
  }

  async readEvents(sessionId: string, after: number, limit: number): Promise<EventRow[]> {
    return this.deps.store.readEvents(sessionId, after, limit);
  }

  /** True when nothing will ever be appended to this session's log again. */
  async isFinal(sessionId: string): Promise<boolean> {
    const s = await this.deps.store.getSession(sessionId);
    return !s || s.status === "failed" || (s.status === "stopped" && !s.sandbox);
  }

  liveCount(): number {
    return this.drivers.size;
  }

  /** This node's id and the nodes alive on the store (for /healthz). */
  async nodes() {
    const nodes = await this.deps.cluster.liveNodes().catch(() => []);
    const iso = (ms: number) => new Date(ms).toISOString();
    return { node: this.deps.cluster.id, nodes: nodes.map((n) => ({ id: n.id, url: n.url, startedAt: iso(n.startedAt), heartbeatAt: iso(n.heartbeatAt) })) };
  }

  private newDriver(session: SessionRecord, epoch: number): SessionDriver {
    const driver = new SessionDriver(this.driverDeps(), session, epoch);
    this.drivers.set(session.id, driver);
    return driver;
  }

  private driverDeps() {
    return {
      store: this.deps.store,
      bus: this.deps.bus,
      agents: this.deps.agents,
      providers: this.deps.providers,
      log: this.deps.log,
      installationId: this.deps.config.installationId,
      gateway: this.deps.gateway,
      secrets: this.deps.secrets,
      maxAgentCrashes: this.deps.config.maxAgentCrashes,
      leaseTtlMs: this.deps.config.leaseTtlMs,
      onRetired: (id: string) => {
        this.drivers.delete(id);
        const released = this.deps.cluster.release(id).finally(() => {
          if (this.releasing.get(id) === released) this.releasing.delete(id);
        });
        this.releasing.set(id, released);
      },
      onFenced: (id: string, epoch: number) => this.lost(id, epoch),
    };
  }

  private sweepIdle(): void {
    const now = Date.now();
    for (const driver of this.drivers.values()) {
      if (!driver.isIdleSince(now)) continue;
      driver
        .idle("idle: no activity within the idle timeout; the workspace is kept and a new prompt resumes the session")
        .catch((err) => this.deps.log.warn({ err, session: driver.id }, "idle stop failed"));
    }
  }
}
