/**
 * @module driver — runs one live session: provisions its sandbox, pumps sandboxd's journal into the store,
 * and sends the control plane's ACP messages (initialize, session/new, prompts, answers, cancel).
 *
 * Every state change of the session goes through one serial queue, so the journal pump and the API never
 * interleave. The driver's memory is a cache of what the store holds: after a crash it is rebuilt from the
 * store and the pump resumes from the stored journal offset.
 */
import { randomBytes } from "node:crypto";
import type { ContentBlock } from "@agentclientprotocol/sdk";
import {
  type AgentLaunch,
  type AnswerInteraction,
  type CommitBatch,
  type EventRow,
  type IdempotencyRecord,
  type JournalRecord,
  type JsonRpcMessage,
  type NewEvent,
  type SandboxHandle,
  type SandboxRef,
  type SandboxdEndpoint,
  type SessionRecord,
  type SessionStatus,
  type StoreV1,
  type WorkspaceSeed,
  AirlockError,
  badRequest,
  conflict,
  newId,
  notFound,
} from "@airlock/protocol";
import { SandboxdClient } from "@airlock/sandboxd";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Gateway } from "../gateway/index.ts";
import type { Logger } from "../log.ts";
import type { EventBus } from "./bus.ts";
import { type MapperAction, type MapperState, mapRecords, rpcIds, rpcKey } from "./mapper.ts";
import type { ProviderRegistry } from "./providers.ts";

export interface DriverDeps {
  store: StoreV1;
  bus: EventBus;
  agents: AgentRegistry;
  providers: ProviderRegistry;
  log: Logger;
  installationId: string;
  gateway: Gateway;
  /** Called when the driver has nothing more to do (session stopped or failed). */
  onRetired(sessionId: string): void;
}

/** The sandbox ref as stored in the session row: the provider's ref plus sandboxd's token. */
export type StoredSandbox = SandboxRef & { relayToken: string };

const acpProtocolVersion = 1;
/** How often the provider's own timeout is pushed forward while work goes on. */
const ttlPushMs = 30_000;
/** E2B's longest timeout on its hobby plan: an hour. */
const maxProviderTtlMs = 3_600_000;
// Notices (e.g. "retrying the LLM call") are shown in the conversation like Airlock's own.
const clientCapabilities = { fs: { readTextFile: true, writeTextFile: true }, terminal: true, elicitation: { form: {} }, session: { notices: {} } };

export class SessionDriver {
  private chain: Promise<unknown> = Promise.resolve();
  private state: MapperState;
  private handle: SandboxHandle | null = null;
  private client: SandboxdClient | null = null;
  private pumpAbort: AbortController | null = null;
  private offset: number;
  /** The journal's last seq when we attached: dispatching waits until the pump has caught up to it. */
  private catchUpTarget = Infinity;
  private sendingTurnId: string | null = null;
  private agentGone = false;
  private resuming = false;
  private agentCaps: Record<string, unknown> = {};
  private lastActivity = Date.now();
  private ackTimer: NodeJS.Timeout | null = null;
  private ttlTimer: NodeJS.Timeout | null = null;
  private lastTtlPush = 0;
  private retired = false;
  private readonly gatewayErrors = new Set<string>();
  idleDeadline: number | null = null;

  constructor(
    private readonly deps: DriverDeps,
    private session: SessionRecord,
  ) {
    this.offset = session.journalOffset;
    this.state = {
      sessionId: session.id,
      status: session.status,
      acpSessionId: session.acpSessionId,
      runningTurnId: null,
      undelivered: new Map(),
      stopping: false,
      replaying: false,
      stderrTail: "",
    };
  }

  get id(): string {
    return this.session.id;
  }
  get status(): SessionStatus {
    return this.state.status;
  }

  // ---------------------------------------------------------------- lifecycle

  /** A new session: make the sandbox, start sandboxd and the agent. Runs in the background. */
  provision(seed: WorkspaceSeed | undefined): Promise<void> {
    return this.serial(async () => {
      const log = this.deps.log;
      try {
        const provider = this.deps.providers.require(this.session.provider);
        const launch = await this.launch();
        const handle = await provider.create(
          {
            sessionId: this.id,
            labels: { "airlock.installation": this.deps.installationId, "airlock.session": this.id },
            network: this.session.options.network,
            seed,
            timeoutMs: this.providerTtlMs(),
          },
          (step) => void this.commitNow({ events: [{ type: "session.status", data: { status: "provisioning", step } }] }).catch(() => {}),
        );
        this.handle = handle;
        const token = randomBytes(32).toString("base64url");
        const sandbox: StoredSandbox = { ...handle.ref, relayToken: token };
        const { workspace: _seedDone, ...options } = this.session.options;
        await this.commitNow({
          events: [{ type: "session.status", data: { status: "provisioning", step: "starting agent" } }],
          session: { sandbox, options },
        });
        const endpoint = await handle.startSandboxd(launch, token);
        this.client = new SandboxdClient(endpoint);
        this.startPump(0);
        await this.sendInitialize();
      } catch (err) {
        log.warn({ err, session: this.id }, "provisioning failed");
        await this.failNow(`provisioning failed: ${messageOf(err)}`);
      }
    });
  }

  /** After a restart of the control plane: re-attach to the running sandboxd and resume from the stored offset. */
  attach(): Promise<void> {
    return this.serial(async () => {
      await this.reloadState();
      // A paused sandbox stays paused until the next prompt (resuming it costs money and time).
      if (this.state.status === "paused") return;
      const sandbox = this.session.sandbox as StoredSandbox | null;
      if (!sandbox) return this.failNow("the server restarted while the sandbox was being made; create a new session");
      const provider = this.deps.providers.get(sandbox.provider);
      const handle = provider ? await provider.connect(sandbox) : null;
      const endpoint = handle ? await handle.findSandboxd(sandbox.relayToken) : null;
      if (!handle || !endpoint) return this.failNow("the sandbox or its relay is gone after a restart of the server");
      this.handle = handle;
      // The running agent's route to the LLM gateway (local sandboxes) died with the old server: serve it again.
      await this.deps.gateway.reattach(this.id);
      this.client = new SandboxdClient(endpoint);
      const health = await this.client.health();
      this.catchUpTarget = health.lastSeq > this.offset ? health.lastSeq : Infinity;
      this.startPump(this.offset);
      if (this.state.status === "provisioning") await this.sendInitialize();
      else await this.afterCatchUp();
    });
  }

  /** An idle-stopped session gets a prompt: start the agent again in the kept sandbox and reload its session. */
  private async resume(): Promise<void> {
    const sandbox = this.session.sandbox as StoredSandbox | null;
    if (!sandbox) throw conflict("this session's sandbox is gone; create a new session");
    const provider = this.deps.providers.require(sandbox.provider);
    const handle = await provider.connect(sandbox);
    if (!handle) throw conflict("this session's sandbox no longer exists; create a new session");
    await this.commitNow({ events: [statusEvent("provisioning", undefined, "resuming")], session: { status: "provisioning", statusReason: null } });
    this.state.status = "provisioning";
    this.state.stopping = false;
    this.agentGone = false;
    this.resuming = true;
    this.handle = handle;
    try {
      const endpoint = await handle.startSandboxd(await this.launch(), sandbox.relayToken);
      this.client = new SandboxdClient(endpoint);
      this.startPump(this.offset);
      await this.sendInitialize();
    } catch (err) {
      await this.failNow(`could not resume the session: ${messageOf(err)}`);
    }
  }

  /** Stop the agent. `destroy` also removes the sandbox (DELETE); otherwise the workspace is kept (idle). */
  async stop(reason: string, destroy: boolean): Promise<void> {
    if (this.retired && !destroy) return;
    const wasFinal = await this.serial(async () => {
      const final = this.state.status === "failed" || this.state.status === "stopped";
      if (!final) {
        this.state.stopping = true;
        await this.commitNow({ events: [statusEvent("stopping", reason)], session: { status: "stopping", statusReason: reason } });
        this.state.status = "stopping";
      }
      return final;
    });
    // Outside the queue: the pump must be able to store the agent's last words and its exit record.
    await this.shutdownRelay();
    await this.serial(async () => {
      if (destroy && this.handle === null && this.session.sandbox) {
        this.handle = (await this.deps.providers.get(this.session.sandbox.provider)?.connect(this.session.sandbox)) ?? null;
      }
      if (destroy) await this.handle?.destroy().catch((err) => this.deps.log.warn({ err, session: this.id }, "destroy failed"));
      const queued = await this.deps.store.listTurns(this.id, "queued");
      await this.commitNow({
        events: wasFinal ? [] : [statusEvent("stopped", reason)],
        session: { ...(wasFinal ? {} : { status: "stopped" as const, statusReason: reason }), idleDeadline: null, ...(destroy ? { sandbox: null } : {}) },
        turns: { update: queued.map((t) => ({ id: t.id, patch: { status: "ended" as const, stopReason: "cancelled" as const, endedAt: Date.now() } })) },
      });
      if (!wasFinal) this.state.status = "stopped";
      this.retire();
    });
  }

  /**
   * Idle past the timeout: pause the sandbox where the provider can (agent and relay are frozen as they are,
   * and the next prompt resumes them), else stop the agent and keep the workspace.
   */
  async idle(reason: string): Promise<void> {
    const provider = this.deps.providers.get(this.session.provider);
    if (!provider?.capabilities.pause || !this.handle?.pause) return this.stop(reason, false);
    const handle = this.handle;
    await this.serial(async () => {
      if (!this.isIdleSince(Date.now())) return;
      this.detach();
      try {
        await handle.pause!();
      } catch (err) {
        this.deps.log.warn({ err, session: this.id }, "could not pause the idle sandbox");
        this.startPump(this.offset);
        return;
      }
      this.client = null;
      await this.commitNow({ events: [statusEvent("paused", reason)], session: { status: "paused", statusReason: reason, idleDeadline: null } });
      this.state.status = "paused";
      this.idleDeadline = null;
    });
  }

  /** A prompt for a paused session: finding the relay again resumes the sandbox (E2B: `Sandbox.connect`). */
  private async unpause(): Promise<void> {
    const sandbox = this.session.sandbox as StoredSandbox | null;
    if (!sandbox) throw conflict("this session's sandbox is gone; create a new session");
    try {
      const handle = this.handle ?? (await this.deps.providers.require(sandbox.provider).connect(sandbox));
      if (!handle) throw new AirlockError("unavailable", "the paused sandbox no longer exists");
      this.handle = handle;
      const endpoint = await handle.findSandboxd(sandbox.relayToken);
      if (!endpoint) throw new AirlockError("unavailable", "the relay did not survive the pause");
      this.client = new SandboxdClient(endpoint);
      await this.commitNow({ events: [statusEvent("ready", undefined, "resumed")], session: { status: "ready", statusReason: null } });
      this.state.status = "ready";
      this.startPump(this.offset);
      await this.dispatch();
    } catch (err) {
      await this.failNow(`could not resume the paused session: ${messageOf(err)}`);
    }
  }

  /** Stop pumping without touching the sandbox (server shutdown: sandboxd keeps running). */
  detach(): void {
    this.pumpAbort?.abort();
    if (this.ackTimer) clearTimeout(this.ackTimer);
    if (this.ttlTimer) clearInterval(this.ttlTimer);
    this.ttlTimer = null;
  }

  // ---------------------------------------------------------------- commands from the API

  prompt(content: ContentBlock[], idempotency?: IdempotencyRecord): Promise<{ turnId: string }> {
    return this.serial(async () => {
      if (this.state.status === "failed") throw conflict(`the session has failed: ${this.session.statusReason ?? "see its events"}`);
      if (this.state.status === "stopping") throw conflict("the session is stopping");
      if (this.state.status === "stopped" && !this.session.sandbox) throw conflict("the session is stopped and its sandbox is gone; create a new session");
      const turnId = newId("turn");
      const now = Date.now();
      await this.commitNow({
        events: [],
        turns: { insert: [{ id: turnId, sessionId: this.id, status: "queued", prompt: content, stopReason: null, error: null, createdAt: now, startedAt: null, endedAt: null, ...(idempotency ? { idempotency } : {}) }] },
        session: { idleDeadline: null },
      });
      this.touch();
      if (this.state.status === "stopped") await this.resume();
      else if (this.state.status === "paused") await this.unpause();
      else await this.dispatch();
      return { turnId };
    });
  }

  cancel(): Promise<{ cancelled: boolean }> {
    return this.serial(async () => {
      if (!this.state.runningTurnId || !this.client || !this.state.acpSessionId) throw conflict("no turn is running");
      await this.client.send(notification("session/cancel", { sessionId: this.state.acpSessionId }));
      // ACP: on cancel the client answers every pending permission request with `cancelled`.
      for (const [key, i] of [...this.state.undelivered]) {
        if (!i.pending) continue;
        await this.resolveInteraction(i.id, { interactionId: i.id, outcome: "cancelled" }, key);
      }
      this.touch();
      return { cancelled: true };
    });
  }

  answer(interactionId: string, body: AnswerInteraction, by: string, idempotency?: IdempotencyRecord): Promise<Record<string, unknown>> {
    return this.serial(async () => {
      const interaction = await this.deps.store.getInteraction(this.id, interactionId);
      if (!interaction) throw notFound(`no interaction ${interactionId} in session ${this.id}`);
      if (interaction.status !== "pending") throw conflict("this interaction was already answered", { resolution: interaction.resolution });
      let resolution: Record<string, unknown>;
      if (interaction.kind === "permission") {
        if (body.optionId === undefined) throw badRequest("a permission request is answered with {optionId}");
        const options = (interaction.request.options ?? []) as Array<{ optionId: string }>;
        if (!options.some((o) => o.optionId === body.optionId)) {
          throw badRequest(`unknown optionId "${body.optionId}"; the options are: ${options.map((o) => o.optionId).join(", ")}`);
        }
        resolution = { interactionId, optionId: body.optionId, outcome: "selected", by };
      } else {
        if (body.answer === undefined) throw badRequest("a question is answered with {answer}");
        resolution = { interactionId, answer: body.answer, outcome: "answered", by };
      }
      await this.resolveInteraction(interactionId, resolution, rpcKey(interaction.rpcId), idempotency);
      this.touch();
      return resolution;
    });
  }

  /** LLM usage counted by the gateway, charged to the running turn. */
  recordUsage(usage: { inputTokens: number; outputTokens: number; costUsd: number; model?: string }): Promise<void> {
    return this.serial(async () => {
      await this.commitNow({
        events: [{ type: "usage", data: usage, ...(this.state.runningTurnId ? { turnId: this.state.runningTurnId } : {}) }],
        addUsage: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costUsd: usage.costUsd },
      });
    });
  }

  /** A problem the LLM gateway met; told once per turn however often the agent retries the call. */
  reportError(message: string, code: string): Promise<void> {
    return this.serial(async () => {
      const key = `${this.state.runningTurnId ?? ""}\n${code}\n${message}`;
      if (this.gatewayErrors.has(key)) return;
      if (this.gatewayErrors.size >= 100) this.gatewayErrors.clear();
      this.gatewayErrors.add(key);
      await this.commitNow({ events: [{ type: "error", data: { message, code }, ...(this.state.runningTurnId ? { turnId: this.state.runningTurnId } : {}) }] });
    });
  }

  keepalive(): { idleDeadline: number | null } {
    this.touch();
    return { idleDeadline: this.idleDeadline };
  }

  /** Called by the idle sweeper. */
  isIdleSince(now: number): boolean {
    return this.idleDeadline !== null && now >= this.idleDeadline && this.state.status === "ready" && !this.sendingTurnId;
  }

  // ---------------------------------------------------------------- journal pump

  private startPump(after: number): void {
    this.pumpAbort?.abort();
    const abort = new AbortController();
    this.pumpAbort = abort;
    this.offset = after;
    void this.pump(abort.signal);
    if (this.handle?.keepAlive && !this.ttlTimer) {
      this.ttlTimer = setInterval(() => this.pushTtl(), ttlPushMs);
      this.ttlTimer.unref();
    }
  }

  /**
   * Keeps the provider's own timeout (E2B) ahead: pushed while a turn runs or an interaction waits, and
   * after any activity; an idle sandbox is left to run out only after the driver's idle deadline.
   */
  private pushTtl(): void {
    const busy = this.state.runningTurnId !== null || this.sendingTurnId !== null || this.state.status === "awaiting_input";
    if (!this.handle?.keepAlive || (!busy && this.lastActivity <= this.lastTtlPush)) return;
    this.lastTtlPush = Date.now();
    this.handle.keepAlive(this.providerTtlMs()).catch((err) => this.deps.log.warn({ err, session: this.id }, "could not extend the sandbox's timeout"));
  }

  private providerTtlMs(): number {
    return Math.min(this.session.options.idleTimeoutSec * 1000 + 60_000, maxProviderTtlMs);
  }

  private async pump(signal: AbortSignal): Promise<void> {
    let backoff = 50;
    while (!signal.aborted && this.client) {
      const client = this.client;
      try {
        await client.follow(
          this.offset,
          (records) => {
            backoff = 50;
            return this.serial(() => this.apply(records));
          },
          signal,
        );
      } catch (err) {
        if (signal.aborted) return;
        this.deps.log.debug({ err, session: this.id }, "journal stream interrupted");
      }
      if (signal.aborted || this.agentGone) return;
      const alive = await client.health().then(
        () => true,
        () => false,
      );
      if (!alive && !signal.aborted) {
        // The sandbox may have paused itself (E2B's timeout ran out): finding the relay again resumes it.
        const again = await this.refindRelay();
        if (again.endpoint && !signal.aborted) {
          this.client = new SandboxdClient(again.endpoint);
          continue;
        }
        await this.serial(() => (again.error ? this.failNow(`the sandbox relay stopped answering: ${again.error}`) : this.relayLost("the sandbox relay stopped answering")));
        return;
      }
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 2000);
    }
  }

  private async refindRelay(): Promise<{ endpoint: SandboxdEndpoint | null; error?: string }> {
    const sandbox = this.session.sandbox as StoredSandbox | null;
    if (!this.handle || !sandbox) return { endpoint: null };
    try {
      return { endpoint: await this.handle.findSandboxd(sandbox.relayToken) };
    } catch (err) {
      return { endpoint: null, error: messageOf(err) };
    }
  }

  private async apply(records: JournalRecord[]): Promise<void> {
    const fresh = records[0] && records[0].seq <= this.offset ? records.filter((r) => r.seq > this.offset) : records;
    if (fresh.length === 0) return;
    const before = structuredState(this.state);
    const { batch, actions } = mapRecords(this.state, fresh);
    try {
      await this.commitNow(batch);
    } catch (err) {
      this.state = before;
      throw err;
    }
    this.offset = batch.journalOffset!;
    this.scheduleAck(actions.some((a) => a.type === "agentExited"));
    if (this.sendingTurnId && batch.turns?.update?.some((u) => u.id === this.sendingTurnId)) this.sendingTurnId = null;
    for (const action of actions) await this.onAction(action);
    if (this.offset >= this.catchUpTarget) {
      this.catchUpTarget = Infinity;
      await this.afterCatchUp();
    }
  }

  private async onAction(action: MapperAction): Promise<void> {
    switch (action.type) {
      case "initialized": {
        this.agentCaps = (action.result.agentCapabilities as Record<string, unknown>) ?? {};
        const cwd = this.handle?.workspacePath ?? "/workspace";
        const canLoad = this.agentCaps.loadSession === true;
        if (this.resuming && this.state.acpSessionId && canLoad) {
          this.state.replaying = true;
          await this.send(request(rpcIds.loadSession, "session/load", { sessionId: this.state.acpSessionId, cwd, mcpServers: [] }));
        } else {
          if (this.resuming && this.state.acpSessionId) {
            await this.commitNow({ events: [{ type: "error", data: { message: "the agent cannot reload its session: earlier context was lost", code: "context_lost" } }] });
          }
          await this.send(request(rpcIds.newSession, "session/new", { cwd, mcpServers: [] }));
        }
        break;
      }
      case "sessionReady": {
        this.resuming = false;
        const agent = this.deps.agents.get(this.session.agent);
        const setup = this.state.acpSessionId ? (agent?.sessionSetup?.({ sessionId: this.id, options: this.session.options }, this.state.acpSessionId) ?? []) : [];
        for (const [i, r] of setup.entries()) await this.send(request(`airlock:setup:${i}:${r.method}`, r.method, r.params));
        await this.dispatch();
        break;
      }
      case "turnEnded":
        this.touch();
        await this.dispatch();
        break;
      case "agentExited":
        this.agentGone = true;
        if (this.state.status === "failed") this.retire();
        break;
      case "reply":
        await this.send({ jsonrpc: "2.0", id: action.id, error: action.error });
        break;
    }
  }

  /** After a re-attach has replayed the journal: send what the crash left unsent. */
  private async afterCatchUp(): Promise<void> {
    for (const [key, i] of this.state.undelivered) {
      if (i.pending) continue;
      const interaction = await this.deps.store.getInteraction(this.id, i.id);
      if (interaction?.resolution) await this.deliverAnswer(interaction.rpcId, interaction.kind, interaction.resolution, key);
    }
    await this.dispatch();
  }

  /** Sends the next queued prompt when the agent is free. */
  private async dispatch(): Promise<void> {
    if (this.catchUpTarget !== Infinity || this.state.status !== "ready" || this.state.runningTurnId || this.sendingTurnId || !this.client || this.agentGone) {
      this.updateIdle();
      return;
    }
    const [next] = await this.deps.store.listTurns(this.id, "queued");
    if (!next) return this.updateIdle();
    this.sendingTurnId = next.id;
    this.idleDeadline = null;
    // A turn starts with a full provider timeout ahead of it; the timer keeps it there while the turn runs.
    this.pushTtl();
    try {
      await this.client.send(request(next.id, "session/prompt", { sessionId: this.state.acpSessionId, prompt: next.prompt }));
    } catch (err) {
      this.sendingTurnId = null;
      this.deps.log.warn({ err, session: this.id }, "could not send the prompt; will retry");
      setTimeout(() => void this.serial(() => this.dispatch()), 500).unref();
    }
  }

  // ---------------------------------------------------------------- helpers

  private async resolveInteraction(interactionId: string, resolution: Record<string, unknown>, key: string, idempotency?: IdempotencyRecord): Promise<void> {
    const entry = this.state.undelivered.get(key);
    if (entry) entry.pending = false;
    const next = this.settledStatus();
    const events: NewEvent[] = [{ type: "interaction.resolved", data: resolution as any, ...(this.state.runningTurnId ? { turnId: this.state.runningTurnId } : {}) }];
    if (next !== this.state.status) events.push(statusEvent(next));
    try {
      await this.commitNow({
        events,
        interactions: { update: [{ id: interactionId, patch: { status: "resolved", resolution, resolvedAt: Date.now(), ...(idempotency ? { idempotency } : {}) } }] },
        requirePendingInteraction: interactionId,
        ...(next !== this.state.status ? { session: { status: next, statusReason: null } } : {}),
      });
    } catch (err) {
      if (entry) entry.pending = true;
      throw err;
    }
    this.state.status = next;
    const interaction = await this.deps.store.getInteraction(this.id, interactionId);
    if (interaction) await this.deliverAnswer(interaction.rpcId, interaction.kind, resolution, key);
  }

  private async deliverAnswer(rpcId: string | number, kind: string, resolution: Record<string, unknown>, key: string): Promise<void> {
    if (!this.client || this.agentGone) return;
    let result: unknown;
    if (resolution.outcome === "cancelled") result = kind === "permission" ? { outcome: { outcome: "cancelled" } } : { action: "cancel" };
    else if (kind === "permission") result = { outcome: { outcome: "selected", optionId: resolution.optionId } };
    else if (resolution.answer === "decline" || resolution.answer === null) result = { action: "decline" };
    else result = { action: "accept", content: await this.formContent(rpcId, resolution.answer) };
    try {
      await this.client.send({ jsonrpc: "2.0", id: rpcId, result });
    } catch (err) {
      // Still undelivered: re-sent after the next catch-up.
      this.deps.log.warn({ err, session: this.id, key }, "could not deliver an answer");
    }
  }

  /**
   * An ACP form answer is an object matching the requested schema; a plain answer to a one-field form is
   * put in that field.
   */
  private async formContent(rpcId: string | number, answer: unknown): Promise<unknown> {
    if (answer !== null && typeof answer === "object") return answer;
    const interaction = (await this.deps.store.listInteractions(this.id)).find((i) => rpcKey(i.rpcId) === rpcKey(rpcId));
    const properties = Object.keys(((interaction?.request.schema as { properties?: object } | undefined)?.properties ?? {}) as object);
    return properties.length === 1 ? { [properties[0]]: answer } : { answer };
  }

  private settledStatus(): SessionStatus {
    if (!["ready", "running", "awaiting_input"].includes(this.state.status)) return this.state.status;
    const pending = [...this.state.undelivered.values()].some((i) => i.pending);
    return pending ? "awaiting_input" : this.state.runningTurnId ? "running" : "ready";
  }

  /** The agent's command line, with the route to the LLM gateway when it uses one. */
  private async launch(): Promise<AgentLaunch> {
    const agent = this.deps.agents.require(this.session.agent);
    const gateway = agent.usesGateway ? this.deps.gateway.access(this.id, this.session.provider) : undefined;
    const launch = agent.launch({ sessionId: this.id, options: this.session.options, gateway });
    return agent.usesGateway && this.session.provider === "local" ? this.deps.gateway.wrapLocal(this.id, launch, agent.gatewaySocket) : launch;
  }

  private async sendInitialize(): Promise<void> {
    await this.send(
      request(rpcIds.initialize, "initialize", {
        protocolVersion: acpProtocolVersion,
        // An agent may need some capabilities withheld (agents/*.ts says why).
        clientCapabilities: { ...clientCapabilities, ...this.deps.agents.get(this.session.agent)?.clientCapabilities },
        clientInfo: { name: "airlock", title: "Airlock", version: "0.1.0" },
      }),
    );
  }

  private async send(msg: JsonRpcMessage): Promise<void> {
    if (!this.client) throw new AirlockError("unavailable", "the agent is not running");
    await this.client.send(msg);
  }

  private async shutdownRelay(): Promise<void> {
    const client = this.client;
    if (client) {
      await client.shutdown().catch(() => {});
      // Let the pump store the agent's last words and the exit record.
      const until = Date.now() + 3000;
      while (!this.agentGone && this.pumpAbort && !this.pumpAbort.signal.aborted && Date.now() < until) await sleep(25);
    }
    this.detach();
    this.client = null;
  }

  /** Reloads what the driver keeps in memory from the store. */
  private async reloadState(): Promise<void> {
    const session = await this.deps.store.getSession(this.id);
    if (!session) throw notFound(`session ${this.id} is gone`);
    this.session = session;
    this.offset = session.journalOffset;
    const running = await this.deps.store.listTurns(this.id, "running");
    const undelivered = await this.deps.store.listInteractions(this.id, { delivered: false });
    this.state = {
      sessionId: this.id,
      status: session.status,
      acpSessionId: session.acpSessionId,
      runningTurnId: running[0]?.id ?? null,
      undelivered: new Map(undelivered.map((i) => [rpcKey(i.rpcId), { id: i.id, pending: i.status === "pending" }])),
      stopping: session.status === "stopping",
      replaying: false,
      stderrTail: "",
    };
  }

  /**
   * The relay died, and its agent with it, but the sandbox is still there: the session stops as an idle one
   * does (the running turn ends with the error), and the next prompt starts the agent again and reloads its
   * session. Only a sandbox that is gone too fails the session.
   */
  private async relayLost(reason: string): Promise<void> {
    const sandbox = this.session.sandbox as StoredSandbox | null;
    const handle = sandbox ? await this.deps.providers.get(sandbox.provider)?.connect(sandbox).catch(() => null) : null;
    if (!handle) return this.failNow(`${reason}, and the sandbox is gone`);
    const message = `${reason}; the agent stopped with it. The workspace is kept: the next prompt starts the agent again.`;
    const queued = await this.deps.store.listTurns(this.id, "queued");
    await this.commitNow(this.endOfRun("stopped", message, "relay_lost", queued.map((t) => t.id)));
    this.state.status = "stopped";
    this.state.runningTurnId = null;
    this.agentGone = true;
    this.detach();
    this.client = null;
    this.retire();
  }

  private async failNow(reason: string): Promise<void> {
    if (this.state.status === "failed") return;
    await this.commitNow(this.endOfRun("failed", reason)).catch((err) => this.deps.log.error({ err, session: this.id }, "could not record the failure"));
    this.state.status = "failed";
    this.state.runningTurnId = null;
    this.detach();
    // A failed agent must not linger: stop the relay (the sandbox is kept for inspection until DELETE).
    await this.client?.shutdown().catch(() => {});
    this.client = null;
    this.retire();
  }

  /** The agent is gone (for good, or until the next prompt): the error, the running turn ended with it, the new status. */
  private endOfRun(status: "failed" | "stopped", reason: string, code?: string, cancelledTurns: string[] = []): CommitBatch {
    const running = this.state.runningTurnId;
    const endedAt = Date.now();
    const events: NewEvent[] = [{ type: "error", data: code ? { message: reason, code } : { message: reason } }];
    if (running) events.push({ type: "turn.ended", turnId: running, data: { turnId: running, stopReason: "error", error: reason } });
    events.push(statusEvent(status, reason));
    const update = [
      ...(running ? [{ id: running, patch: { status: "ended" as const, stopReason: "error" as const, error: reason, endedAt } }] : []),
      ...cancelledTurns.map((id) => ({ id, patch: { status: "ended" as const, stopReason: "cancelled" as const, endedAt } })),
    ];
    return { events, session: { status, statusReason: reason, idleDeadline: null }, ...(update.length ? { turns: { update } } : {}) };
  }

  private async commitNow(batch: CommitBatch): Promise<EventRow[]> {
    const rows = await this.deps.store.commit(this.id, batch);
    if (batch.session) this.session = { ...this.session, ...batch.session };
    this.deps.bus.publish(this.id, rows);
    return rows;
  }

  /**
   * Acknowledges what is stored: at once when that includes the agent's exit record (the relay ends when it
   * knows the control plane holds it), else at most every few seconds. Two acks a second per session were a
   * tenth of the wake-ups of 50 sessions streaming 20 events a second, each an HTTP round trip for the server and
   * the relay. (The stored offset, not the ack, is what resumes a session.)
   */
  private scheduleAck(now: boolean): void {
    if (!this.client) return;
    const client = this.client;
    const send = () => {
      this.ackTimer = null;
      client.ack(this.offset).catch(() => {});
    };
    if (now) {
      if (this.ackTimer) clearTimeout(this.ackTimer);
      send();
    } else if (!this.ackTimer) {
      this.ackTimer = setTimeout(send, ackEveryMs);
    }
  }

  private touch(): void {
    this.lastActivity = Date.now();
    this.updateIdle();
  }

  private updateIdle(): void {
    const idle = this.state.status === "ready" && !this.state.runningTurnId && !this.sendingTurnId;
    this.idleDeadline = idle ? this.lastActivity + this.session.options.idleTimeoutSec * 1000 : null;
  }

  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    // sandboxd exits once its agent's exit record is acknowledged.
    this.client?.ack(this.offset).catch(() => {});
    this.deps.gateway.close(this.id);
    this.detach();
    this.deps.onRetired(this.id);
  }

  /** Runs `fn` after everything queued before it; errors reach the caller, never the queue. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }
}

function statusEvent(status: SessionStatus, reason?: string, step?: string): NewEvent {
  return { type: "session.status", data: { status, ...(reason ? { reason } : {}), ...(step ? { step } : {}) } };
}

function request(id: string, method: string, params: unknown): JsonRpcMessage {
  return { jsonrpc: "2.0", id, method, params };
}

function notification(method: string, params: unknown): JsonRpcMessage {
  return { jsonrpc: "2.0", method, params };
}

function structuredState(state: MapperState): MapperState {
  return { ...state, undelivered: new Map([...state.undelivered].map(([k, v]) => [k, { ...v }])) };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** How often what is stored is acknowledged while a session streams (see scheduleAck). */
const ackEveryMs = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
