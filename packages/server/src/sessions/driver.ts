/**
 * @module driver — runs one live session: its lifecycle (provision, attach after a restart, resume after an idle
 * stop or an agent crash, pause, stop) and the commands from the API (prompts, answers, cancel), around the
 * journal pump that stores what the agent does.
 *
 * Every state change of the session goes through one serial queue, so the journal pump and the API never
 * interleave. The driver's memory is a cache of what the store holds: after a crash it is rebuilt from the
 * store and the pump resumes from the stored journal offset. Its collaborators each do one thing: the pump
 * (journal-pump.ts) follows the relay, the mapper (mapper.ts) decides what records mean, answers.ts what an
 * answer means, provider-ttl.ts keeps a provider's timeout ahead, agent-start.ts says how the agent starts.
 */
import { randomBytes } from "node:crypto";
import type { ContentBlock } from "@agentclientprotocol/sdk";
import {
  type AnswerInteraction,
  type CommitBatch,
  type EventRow,
  type IdempotencyRecord,
  type InteractionRecord,
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
  conflict,
  isFenced,
  newId,
  notFound,
} from "@airlock/protocol";
import { SandboxdClient, SandboxdError } from "@airlock/sandboxd";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Gateway } from "../gateway/index.ts";
import type { Logger } from "../log.ts";
import { Masker, type Secrets } from "../secrets/index.ts";
import { holdMs } from "../secrets/mask.ts";
import { endOfRun, initialize, notification, request, statusEvent } from "./acp-messages.ts";
import { type AgentStart, acpSessionParams, agentLaunch, maskOf } from "./agent-start.ts";
import { acpResult, resolutionOf } from "./answers.ts";
import type { EventBus } from "./bus.ts";
import { JournalPump } from "./journal-pump.ts";
import { type MapperAction, type MapperState, mapRecords, rpcIds, rpcKey } from "./mapper.ts";
import { ProviderTtl, providerTtlMs } from "./provider-ttl.ts";
import type { ProviderRegistry } from "./providers.ts";
import type { RelayServices } from "./services.ts";

export interface DriverDeps {
  store: StoreV1;
  bus: EventBus;
  agents: AgentRegistry;
  providers: ProviderRegistry;
  log: Logger;
  installationId: string;
  gateway: Gateway;
  secrets: Secrets;
  /** Crashes of the agent in a row, without a completed turn, after which the session fails. */
  maxAgentCrashes: number;
  /** The lease's time to live: each commit of the owner extends it that far. */
  leaseTtlMs: number;
  /** Called when the driver has nothing more to do (session stopped or failed). */
  onRetired(sessionId: string): void;
  /** A commit was refused because another node holds the session's lease now: let go of it. */
  onFenced(sessionId: string, epoch: number): void;
}

/** The sandbox ref as stored in the session row: the provider's ref plus sandboxd's token. */
export type StoredSandbox = SandboxRef & { relayToken: string };

export class SessionDriver {
  private chain: Promise<unknown> = Promise.resolve();
  private state: MapperState;
  private handle: SandboxHandle | null = null;
  private readonly pump: JournalPump;
  private readonly ttl: ProviderTtl;
  /** The journal's last seq when we attached: dispatching waits until the pump has caught up to it. */
  private catchUpTarget = Infinity;
  private sendingTurnId: string | null = null;
  private agentGone = false;
  private resuming = false;
  private lastActivity = Date.now();
  private retired = false;
  private readonly gatewayErrors = new Set<string>();
  /** Masks the running agent's secret values in everything committed (set at each agent start). */
  private masker = new Masker([]);
  /** Journal records the masker holds back until the rest of a possible value arrives, and the timer that ends the wait. */
  private held: JournalRecord[] = [];
  private holdTimer: NodeJS.Timeout | null = null;
  /** Aborts the provider's creation of the sandbox (DELETE while it is being made). */
  private making: AbortController | null = null;
  idleDeadline: number | null = null;

  /**
   * @param epoch the epoch of this node's lease on the session: every commit carries it, and the store refuses
   *   it once another node has taken the session over (null: a one-off driver for DELETE of an unowned session).
   */
  constructor(
    private readonly deps: DriverDeps,
    private session: SessionRecord,
    readonly epoch: number | null = null,
  ) {
    this.state = this.stateOf(session, null, []);
    this.pump = new JournalPump(
      {
        onRecords: (records) => this.serial(() => this.apply(records)),
        agentGone: () => this.agentGone,
        refind: () => this.refindRelay(),
        onLost: (error, signal) =>
          this.serial(async () => {
            if (signal.aborted) return;
            await (error ? this.failNow(`the sandbox relay stopped answering: ${error}`) : this.relayLost("the sandbox relay stopped answering"));
          }),
      },
      deps.log,
      session.id,
    );
    this.pump.offset = session.journalOffset;
    const busy = () => this.state.runningTurnId !== null || this.sendingTurnId !== null || this.state.status === "awaiting_input";
    this.ttl = new ProviderTtl(() => providerTtlMs(this.session.options.idleTimeoutSec), busy, () => this.lastActivity, deps.log, session.id);
  }

  get id(): string {
    return this.session.id;
  }
  get status(): SessionStatus {
    return this.state.status;
  }
  private get client(): SandboxdClient | null {
    return this.pump.client;
  }

  // ---------------------------------------------------------------- lifecycle

  /** A new session: make the sandbox, start sandboxd and the agent. Runs in the background. */
  provision(seed: WorkspaceSeed | undefined): Promise<void> {
    return this.serial(() => this.make(seed));
  }

  private async make(seed: WorkspaceSeed | undefined): Promise<void> {
    let handle: SandboxHandle | null = null;
    let stored = false;
    const making = (this.making = new AbortController());
    try {
      const provider = this.deps.providers.require(this.session.provider);
      const launch = await agentLaunch(this.deps, this.session);
      handle = await provider.create(
        {
          sessionId: this.id,
          labels: { "airlock.installation": this.deps.installationId, "airlock.session": this.id },
          network: this.session.options.network,
          seed,
          timeoutMs: providerTtlMs(this.session.options.idleTimeoutSec),
          idleTimeoutSec: this.session.options.idleTimeoutSec,
        },
        (step) => void this.commitNow({ events: [statusEvent("provisioning", undefined, step)] }).catch(() => {}),
        making.signal,
      );
      this.handle = handle;
      const token = randomBytes(32).toString("base64url");
      const sandbox: StoredSandbox = { ...handle.ref, relayToken: token };
      const { workspace: _seedDone, ...options } = this.session.options;
      await this.commitNow({ events: [statusEvent("provisioning", undefined, "starting agent")], session: { sandbox, options } });
      stored = true;
      await this.deps.store.dropSessionSeed(this.id).catch((err) => this.deps.log.warn({ err, session: this.id }, "could not drop the workspace seed"));
      await this.startAgent(handle, launch, token, 0);
    } catch (err) {
      if (isFenced(err)) {
        // Another node drives the session now and makes a sandbox of its own; one that was never stored is nobody's.
        if (!stored) await handle?.destroy().catch((e) => this.deps.log.warn({ err: e, session: this.id }, "destroy failed"));
        return;
      }
      // Deleted while the sandbox was being made: the stop that follows in the queue ends the session.
      if (making.signal.aborted) return;
      this.deps.log.warn({ err, session: this.id }, "provisioning failed");
      await this.failNow(`provisioning failed: ${messageOf(err)}`);
    } finally {
      this.making = null;
    }
  }

  /**
   * The node that was making this session's sandbox stopped (it died, restarted or lost the lease) before the
   * sandbox was stored: what it made is removed, and the sandbox is made again from the stored seed.
   */
  private async remake(): Promise<void> {
    const provider = this.deps.providers.get(this.session.provider);
    if (!provider) return this.failNow(`the sandbox provider "${this.session.provider}" is not configured on this node`);
    const leftovers = await provider.list({ "airlock.installation": this.deps.installationId, "airlock.session": this.id }).catch(() => []);
    for (const ref of leftovers) {
      const left = await provider.connect(ref).catch(() => null);
      await left?.destroy().catch((err) => this.deps.log.warn({ err, session: this.id }, "destroy failed"));
    }
    this.deps.log.info({ session: this.id, leftovers: leftovers.length }, "making the sandbox again");
    await this.commitNow({ events: [statusEvent("provisioning", undefined, "making the sandbox again (the node that was making it stopped)")] });
    await this.make((await this.deps.store.sessionSeed(this.id)) ?? this.session.options.workspace);
  }

  /** After a restart of the control plane: re-attach to the running sandboxd and resume from the stored offset. */
  attach(): Promise<void> {
    return this.serial(async () => {
      await this.reloadState();
      // A paused sandbox stays paused until the next prompt (resuming it costs money and time).
      if (this.state.status === "paused") return;
      const sandbox = this.session.sandbox as StoredSandbox | null;
      if (!sandbox && this.state.status === "provisioning") return this.remake();
      if (!sandbox) return this.failNow("this session's sandbox is gone; create a new session");
      const provider = this.deps.providers.get(sandbox.provider);
      const handle = provider ? await provider.connect(sandbox) : null;
      const endpoint = handle ? await handle.findSandboxd(sandbox.relayToken) : null;
      if (!handle) return this.failNow("the sandbox is gone after a restart of the server");
      // The relay ended while no server was there (the host rebooted, its orphan grace ran out): like a lost relay.
      if (!endpoint) return this.relayLost("the sandbox relay ended while the server was away");
      this.handle = handle;
      this.masker = new Masker(await maskOf(this.deps, this.session).catch(() => []));
      // The running agent's route to the LLM gateway (local sandboxes) died with the old server: serve it again.
      await this.deps.gateway.reattach(this.id);
      const client = new SandboxdClient(endpoint);
      const health = await client.health();
      this.catchUpTarget = health.lastSeq > this.pump.offset ? health.lastSeq : Infinity;
      this.follow(client, this.pump.offset);
      if (this.state.status === "provisioning") await this.send(initialize(this.withheldCapabilities()));
      else await this.afterCatchUp();
    });
  }

  /** A stopped session (idle, relay lost, agent crashed) gets work: start the agent again in the kept sandbox. */
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
    this.state.agentRunning = false;
    this.resuming = true;
    this.handle = handle;
    try {
      await this.startAgent(handle, await agentLaunch(this.deps, this.session), sandbox.relayToken, this.pump.offset);
    } catch (err) {
      await this.failNow(`could not resume the session: ${messageOf(err)}`);
    }
  }

  /** Starts sandboxd and the agent in `handle`, follows its journal from `after`, and begins the ACP handshake. */
  private async startAgent(handle: SandboxHandle, start: AgentStart, token: string, after: number): Promise<void> {
    this.masker = new Masker(start.mask);
    const endpoint = await handle.startSandboxd(start.launch, token);
    this.follow(new SandboxdClient(endpoint), after);
    await this.send(initialize(this.withheldCapabilities()));
  }

  /** Stop the agent. `destroy` also removes the sandbox (DELETE); otherwise the workspace is kept (idle). */
  async stop(reason: string, destroy: boolean): Promise<void> {
    if (this.retired && !destroy) return;
    // A sandbox still being made would hold the queue until the provider answers (or never, if it does not).
    if (destroy) this.making?.abort();
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
      const client = this.client;
      this.detach();
      try {
        await handle.pause!();
      } catch (err) {
        this.deps.log.warn({ err, session: this.id }, "could not pause the idle sandbox");
        if (client) this.follow(client, this.pump.offset);
        return;
      }
      this.pump.client = null;
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
      if (!this.masker.active) this.masker = new Masker(await maskOf(this.deps, this.session).catch(() => []));
      const endpoint = await handle.findSandboxd(sandbox.relayToken);
      if (!endpoint) throw new AirlockError("unavailable", "the relay did not survive the pause");
      await this.commitNow({ events: [statusEvent("ready", undefined, "resumed")], session: { status: "ready", statusReason: null } });
      this.state.status = "ready";
      this.follow(new SandboxdClient(endpoint), this.pump.offset);
      await this.dispatch();
    } catch (err) {
      await this.failNow(`could not resume the paused session: ${messageOf(err)}`);
    }
  }

  /** Stop pumping without touching the sandbox (server shutdown: sandboxd keeps running). */
  detach(): void {
    this.pump.stop();
    this.ttl.stop();
    // Held records were not stored, and the stored offset is before them: whoever follows the relay next reads them again.
    this.dropHeld();
  }

  /**
   * Another node drives the session now: stop at once, touching neither the sandbox nor the log. The gateway's
   * socket is left to the new owner (closing our listener would unlink the socket it bound in its place).
   */
  letGo(): void {
    if (this.retired) return;
    this.retired = true;
    this.detach();
    this.pump.client = null;
    this.deps.gateway.release(this.id);
  }

  get active(): boolean {
    return !this.retired;
  }

  /**
   * Commands that other nodes recorded in the store for this session: answers (resolved there, delivered here),
   * queued prompts, cancel, keepalive. Returns true when a DELETE is among them (the caller stops the session).
   */
  wake(): Promise<boolean> {
    return this.serial(async () => {
      if (this.retired) return false;
      const commands = await this.deps.store.takeCommands(this.id);
      const answered: InteractionRecord[] = [];
      for (const entry of this.state.undelivered.values()) {
        if (!entry.pending) continue;
        const interaction = await this.deps.store.getInteraction(this.id, entry.id);
        if (interaction?.status !== "resolved") continue;
        entry.pending = false;
        answered.push(interaction);
      }
      if (answered.length) {
        const next = this.settledStatus();
        if (next !== this.state.status) {
          await this.commitNow({ events: [statusEvent(next)], session: { status: next, statusReason: null } });
          this.state.status = next;
        }
        for (const interaction of answered) await this.deliverAnswer(interaction, interaction.resolution ?? {});
      }
      let deleted = false;
      for (const command of commands) {
        if (command.kind === "keepalive") this.touch();
        else if (command.kind === "cancel") await this.cancelNow().catch((err) => this.deps.log.debug({ err, session: this.id }, "nothing to cancel"));
        else if (command.kind === "delete") deleted = true;
      }
      if (deleted) return true;
      if (commands.some((c) => c.kind === "wake")) {
        this.touch();
        const queued = (await this.deps.store.listTurns(this.id, "queued")).length > 0;
        if (queued && this.state.status === "stopped") await this.resume();
        else if (queued && this.state.status === "paused") await this.unpause();
        else await this.dispatch();
      }
      return false;
    });
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
      try {
        if (this.state.status === "stopped") await this.resume();
        else if (this.state.status === "paused") await this.unpause();
        else await this.dispatch();
      } catch (err) {
        // The turn is stored: a node that took the session over meanwhile runs it.
        if (!isFenced(err)) throw err;
      }
      return { turnId };
    });
  }

  cancel(): Promise<{ cancelled: boolean }> {
    return this.serial(() => this.cancelNow());
  }

  private async cancelNow(): Promise<{ cancelled: boolean }> {
    if (!this.state.runningTurnId || !this.client || !this.state.acpSessionId) throw conflict("no turn is running");
    await this.client.send(notification("session/cancel", { sessionId: this.state.acpSessionId }));
    // ACP: on cancel the client answers every pending permission request with `cancelled`.
    for (const [key, i] of [...this.state.undelivered]) {
      if (!i.pending) continue;
      // Answered on another node meanwhile: that answer stands (and is delivered by `wake`).
      await this.resolveInteraction(i.id, { interactionId: i.id, outcome: "cancelled" }, key).catch((err) => {
        if (!AirlockError.is(err) || err.code !== "conflict") throw err;
      });
    }
    this.touch();
    return { cancelled: true };
  }

  answer(interactionId: string, body: AnswerInteraction, by: string, idempotency?: IdempotencyRecord): Promise<Record<string, unknown>> {
    return this.serial(async () => {
      const interaction = await this.deps.store.getInteraction(this.id, interactionId);
      if (!interaction) throw notFound(`no interaction ${interactionId} in session ${this.id}`);
      if (interaction.status !== "pending") throw conflict("this interaction was already answered", { resolution: interaction.resolution });
      const resolution = resolutionOf(interaction, body, by);
      await this.resolveInteraction(interactionId, resolution, rpcKey(interaction.rpcId), idempotency);
      this.touch();
      return resolution;
    });
  }

  /** LLM usage counted by the gateway, charged to the running turn. */
  recordUsage(usage: { inputTokens: number; outputTokens: number; costUsd: number; model?: string }): Promise<void> {
    return this.serial(async () => {
      await this.commitNow({
        events: [{ type: "usage", data: usage, ...this.turnTag() }],
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
      await this.commitNow({ events: [{ type: "error", data: { message, code }, ...this.turnTag() }] });
    });
  }

  /** The services as the running relay reports them; null when no relay runs (or it does not answer). */
  async relayServices(): Promise<RelayServices | null> {
    const client = this.client;
    if (!client || this.agentGone) return null;
    try {
      const { services, setupDone } = await client.services();
      return { services, setupDone };
    } catch {
      return null;
    }
  }

  /** A service's log tail from the running relay; null when none runs. Unknown names are checked by the caller. */
  async serviceLog(name: string, tail: number): Promise<{ lines: string[]; truncated: boolean } | null> {
    const client = this.client;
    if (!client || this.agentGone) return null;
    try {
      return await client.serviceLog(name, tail);
    } catch (err) {
      if (err instanceof SandboxdError && err.status === 404) return { lines: [], truncated: false };
      return null;
    }
  }

  keepalive(): { idleDeadline: number | null } {
    this.touch();
    return { idleDeadline: this.idleDeadline };
  }

  /** Called by the idle sweeper. */
  isIdleSince(now: number): boolean {
    return this.idleDeadline !== null && now >= this.idleDeadline && this.state.status === "ready" && !this.sendingTurnId;
  }

  // ---------------------------------------------------------------- the journal

  private follow(client: SandboxdClient, after: number): void {
    this.pump.start(client, after);
    this.ttl.start(this.handle);
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

  private async apply(records: JournalRecord[], flush = false): Promise<void> {
    const offset = this.pump.offset;
    // Records held back by the masker come first; a stream that restarted delivers them again (kept once, by seq).
    const last = this.held.at(-1)?.seq ?? -1;
    const all = this.held.length ? [...this.held, ...records.filter((r) => r.seq > last)] : records;
    this.dropHeld();
    let fresh = all[0] && all[0].seq <= offset ? all.filter((r) => r.seq > offset) : all;
    // Trailing output that may be the beginning of a secret value waits for the rest (see secrets/mask.ts).
    const hold = flush ? 0 : this.masker.holdBack(fresh);
    if (hold > 0) {
      this.held = fresh.slice(-hold);
      this.holdTimer = setTimeout(() => {
        this.serial(() => this.apply([], true)).catch((err) => this.deps.log.warn({ err, session: this.id }, "could not store held output"));
      }, holdMs);
      fresh = fresh.slice(0, -hold);
    }
    if (fresh.length === 0) return;
    const before = copyState(this.state);
    const { batch, actions } = mapRecords(this.state, fresh);
    try {
      await this.commitNow(batch);
    } catch (err) {
      this.state = before;
      throw err;
    }
    this.pump.offset = batch.journalOffset!;
    this.pump.acknowledge(actions.some((a) => a.type === "agentExited"));
    if (this.sendingTurnId && batch.turns?.update?.some((u) => u.id === this.sendingTurnId)) this.sendingTurnId = null;
    for (const action of actions) await this.onAction(action);
    if (this.pump.offset >= this.catchUpTarget) {
      this.catchUpTarget = Infinity;
      await this.afterCatchUp();
    }
  }

  private async onAction(action: MapperAction): Promise<void> {
    switch (action.type) {
      case "initialized": {
        const caps = (action.result.agentCapabilities as Record<string, unknown>) ?? {};
        const params = acpSessionParams(this.deps, this.session, this.handle?.workspacePath ?? "/workspace");
        if (this.resuming && this.state.acpSessionId && caps.loadSession === true) {
          this.state.replaying = true;
          await this.send(request(rpcIds.loadSession, "session/load", { sessionId: this.state.acpSessionId, ...params }));
        } else {
          if (this.resuming && this.state.acpSessionId) {
            await this.commitNow({ events: [{ type: "error", data: { message: "the agent cannot reload its session: earlier context was lost", code: "context_lost" } }] });
          }
          await this.send(request(rpcIds.newSession, "session/new", params));
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
        if (!action.requested && this.state.status === "stopped") await this.afterCrash();
        else if (this.state.status === "failed") this.retire();
        break;
      case "prepareFailed":
        // The mapper failed the session; the relay has nothing left to run.
        this.agentGone = true;
        this.detach();
        await this.client?.shutdown().catch(() => {});
        this.pump.client = null;
        this.retire();
        break;
      case "reply":
        await this.send({ jsonrpc: "2.0", id: action.id, error: action.error });
        break;
    }
  }

  /**
   * The agent crashed and the mapper stopped the session with its sandbox kept. With prompts still queued the
   * agent starts again at once to run them; otherwise the next prompt starts it. The sandbox must still be there:
   * only a sandbox that is gone fails the session.
   */
  private async afterCrash(): Promise<void> {
    const sandbox = this.session.sandbox as StoredSandbox | null;
    const handle = sandbox ? await this.deps.providers.get(sandbox.provider)?.connect(sandbox).catch(() => null) : null;
    if (!handle) return this.failNow("the agent exited, and its sandbox is gone");
    if ((await this.deps.store.listTurns(this.id, "queued")).length > 0) return this.resume();
    this.retire();
  }

  /** After a re-attach has replayed the journal: send what the crash left unsent. */
  private async afterCatchUp(): Promise<void> {
    for (const i of this.state.undelivered.values()) {
      if (i.pending) continue;
      const interaction = await this.deps.store.getInteraction(this.id, i.id);
      if (interaction?.resolution) await this.deliverAnswer(interaction, interaction.resolution);
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
    this.ttl.push(this.handle);
    try {
      await this.client.send(request(next.id, "session/prompt", { sessionId: this.state.acpSessionId, prompt: next.prompt }));
    } catch (err) {
      this.sendingTurnId = null;
      this.deps.log.warn({ err, session: this.id }, "could not send the prompt; will retry");
      setTimeout(() => this.serial(() => this.dispatch()).catch((e) => this.deps.log.warn({ err: e, session: this.id }, "could not send the prompt")), 500).unref();
    }
  }

  // ---------------------------------------------------------------- interactions

  private async resolveInteraction(interactionId: string, resolution: Record<string, unknown>, key: string, idempotency?: IdempotencyRecord): Promise<void> {
    const entry = this.state.undelivered.get(key);
    if (entry) entry.pending = false;
    const next = this.settledStatus();
    const events: NewEvent[] = [{ type: "interaction.resolved", data: resolution as any, ...this.turnTag() }];
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
    if (interaction) await this.deliverAnswer(interaction, resolution);
  }

  private async deliverAnswer(interaction: InteractionRecord, resolution: Record<string, unknown>): Promise<void> {
    if (!this.client || this.agentGone) return;
    try {
      await this.client.send({ jsonrpc: "2.0", id: interaction.rpcId, result: acpResult(interaction, resolution) });
    } catch (err) {
      // Still undelivered: re-sent after the next catch-up.
      this.deps.log.warn({ err, session: this.id, interaction: interaction.id }, "could not deliver an answer");
    }
  }

  private settledStatus(): SessionStatus {
    if (!["ready", "running", "awaiting_input"].includes(this.state.status)) return this.state.status;
    const pending = [...this.state.undelivered.values()].some((i) => i.pending);
    return pending ? "awaiting_input" : this.state.runningTurnId ? "running" : "ready";
  }

  // ---------------------------------------------------------------- helpers

  private dropHeld(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    this.held = [];
  }

  private withheldCapabilities(): Record<string, unknown> | undefined {
    return this.deps.agents.get(this.session.agent)?.clientCapabilities;
  }

  private turnTag(): { turnId?: string } {
    return this.state.runningTurnId ? { turnId: this.state.runningTurnId } : {};
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
      while (!this.agentGone && this.pump.running && Date.now() < until) await sleep(25);
    }
    this.detach();
    this.pump.client = null;
  }

  private stateOf(session: SessionRecord, runningTurnId: string | null, undelivered: InteractionRecord[]): MapperState {
    return {
      sessionId: session.id,
      status: session.status,
      acpSessionId: session.acpSessionId,
      runningTurnId,
      undelivered: new Map(undelivered.map((i) => [rpcKey(i.rpcId), { id: i.id, pending: i.status === "pending" }])),
      stopping: session.status === "stopping",
      replaying: false,
      stderrTail: "",
      agentRunning: true,
      agentCrashes: session.agentCrashes,
      maxAgentCrashes: this.deps.maxAgentCrashes,
    };
  }

  /** Reloads what the driver keeps in memory from the store. */
  private async reloadState(): Promise<void> {
    const session = await this.deps.store.getSession(this.id);
    if (!session) throw notFound(`session ${this.id} is gone`);
    this.session = session;
    this.pump.offset = session.journalOffset;
    const running = await this.deps.store.listTurns(this.id, "running");
    const undelivered = await this.deps.store.listInteractions(this.id, { delivered: false });
    this.state = this.stateOf(session, running[0]?.id ?? null, undelivered);
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
    await this.commitNow(endOfRun({ ...this.runEnding(), queuedTurns: queued.map((t) => t.id) }, "stopped", message, "relay_lost"));
    this.state.status = "stopped";
    this.state.runningTurnId = null;
    this.state.undelivered.clear();
    this.agentGone = true;
    this.detach();
    this.pump.client = null;
    this.retire();
  }

  private async failNow(reason: string): Promise<void> {
    if (this.state.status === "failed") return;
    await this.commitNow(endOfRun(this.runEnding(), "failed", reason)).catch((err) => this.deps.log.error({ err, session: this.id }, "could not record the failure"));
    this.state.status = "failed";
    this.state.runningTurnId = null;
    this.state.undelivered.clear();
    this.detach();
    // A failed agent must not linger: stop the relay (the sandbox is kept for inspection until DELETE).
    await this.client?.shutdown().catch(() => {});
    this.pump.client = null;
    this.retire();
  }

  /** What a run that ends now leaves behind: its running turn and the interactions still waiting for an answer. */
  private runEnding(): { running: string | null; pendingInteractions: string[] } {
    return { running: this.state.runningTurnId, pendingInteractions: [...this.state.undelivered.values()].filter((i) => i.pending).map((i) => i.id) };
  }

  private async commitNow(unmasked: CommitBatch): Promise<EventRow[]> {
    const batch = this.masker.batch(unmasked);
    let rows: EventRow[];
    try {
      rows = await this.deps.store.commit(this.id, this.epoch === null ? batch : { ...batch, epoch: this.epoch, leaseTtlMs: this.deps.leaseTtlMs });
    } catch (err) {
      if (isFenced(err) && !this.retired && this.epoch !== null) {
        this.deps.log.warn({ session: this.id, epoch: this.epoch }, "another node took this session over; letting it go");
        this.deps.onFenced(this.id, this.epoch);
      }
      throw err;
    }
    if (batch.session) this.session = { ...this.session, ...batch.session };
    this.deps.bus.publish(this.id, rows);
    return rows;
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
    this.client?.ack(this.pump.offset).catch(() => {});
    this.deps.gateway.close(this.id);
    // The seed only serves to make the sandbox again: a session that ended needs it no more.
    this.deps.store.dropSessionSeed(this.id).catch(() => {});
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

function copyState(state: MapperState): MapperState {
  return { ...state, undelivered: new Map([...state.undelivered].map(([k, v]) => [k, { ...v }])) };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
