/**
 * @module provider-conformance — what every `SandboxProviderV1` must do, as one vitest suite:
 * `describeProviderConformance("local", async () => ({ provider: () => createLocalProvider(...), ... }))`.
 *
 * It walks one sandbox through a session's life (create with labels and seed, sandboxd with the scripted
 * agent, files, a re-attach from a new provider object as after a control-plane restart, keep-alive during a
 * turn, pause and resume where supported, destroy) and checks listing by labels for orphan reaping and
 * preflight. Capabilities a provider does not declare are skipped, never guessed.
 */
import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentLaunch, JournalRecord, JsonRpcMessage, SandboxHandle, SandboxProviderV1, SandboxRef, SandboxdEndpoint } from "@airlock/protocol";
import { SandboxdClient } from "@airlock/sandboxd";

const scriptedAgentPath = fileURLToPath(new URL("../dist/scripted-agent.mjs", import.meta.url));

export interface ProviderFixture {
  /** A new provider object over the same sandboxes; each call stands for a start of the control plane. */
  provider(): SandboxProviderV1;
  /** A provider that cannot work here (no credentials, missing tool, ...): its preflight must say why. */
  broken?(): SandboxProviderV1;
  /** What a destroyed sandbox left behind (processes, files, records); empty when nothing. */
  leftovers(ref: SandboxRef): Promise<string[]>;
  /** Whether the sandbox is paused right now (providers that can pause). */
  isPaused?(ref: SandboxRef): Promise<boolean>;
  /** Runs the provider's own timeout out now, as when nobody kept the sandbox alive (providers that have one). */
  expire?(ref: SandboxRef): Promise<void>;
  /** A file holding sandboxd's token, as a path the agent could try: it must not be able to read it. */
  secretPath?(ref: SandboxRef): string;
  /** The tiny agent's launch; defaults to the test kit's scripted agent run with `node`. */
  agent?: AgentLaunch;
  close?(): Promise<void>;
}

/** The scripted agent as the agent registry launches it. */
export function scriptedAgentLaunch(): AgentLaunch {
  return { argv: ["node", scriptedAgentPath], env: { LANG: "C.UTF-8" }, readOnlyPaths: [dirname(scriptedAgentPath)] };
}

/** Reads a sandboxd journal and sends ACP requests through it, like the session driver does. */
class Relay {
  readonly records: JournalRecord[] = [];
  private after = 0;
  constructor(readonly client: SandboxdClient) {}

  async poll(waitMs = 500): Promise<void> {
    const batch = await this.client.read(this.after, 1000, waitMs);
    for (const r of batch) {
      this.records.push(r);
      this.after = r.seq;
    }
  }

  async waitFor<T>(find: (records: JournalRecord[]) => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = find(this.records);
      if (found !== undefined) return found;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; journal kinds: ${this.records.map((r) => r.kind).join(",")}`);
      await this.poll(Math.min(1000, Math.max(50, until - Date.now())));
    }
  }

  async call(id: string, method: string, params: unknown, timeoutMs = 30_000): Promise<any> {
    await this.client.send({ jsonrpc: "2.0", id, method, params });
    const reply = await this.waitFor(
      (rs) => rs.find((r): r is Extract<JournalRecord, { kind: "agent" }> => r.kind === "agent" && "id" in r.msg && r.msg.id === id && !("method" in r.msg)),
      `the answer to ${method}`,
      timeoutMs,
    );
    const msg = reply.msg as JsonRpcMessage & { result?: unknown; error?: { message: string } };
    if (msg.error) throw new Error(`${method}: ${msg.error.message}`);
    return msg.result;
  }

  /** Text the agent sent for the prompt with this request id. */
  text(sessionId: string): string {
    return this.records
      .filter((r): r is Extract<JournalRecord, { kind: "agent" }> => r.kind === "agent" && "method" in r.msg && r.msg.method === "session/update")
      .map((r) => (r.msg as any).params)
      .filter((p) => p.sessionId === sessionId && p.update?.sessionUpdate === "agent_message_chunk")
      .map((p) => p.update.content?.text ?? "")
      .join("");
  }
}

const clientCapabilities = { fs: { readTextFile: true, writeTextFile: true }, terminal: true };

export function describeProviderConformance(name: string, makeFixture: () => Promise<ProviderFixture>): void {
  describe(`provider conformance: ${name}`, () => {
    let fixture: ProviderFixture;
    let provider: SandboxProviderV1;
    const installation = `conf-${randomBytes(4).toString("hex")}`;
    const labelsOf = (session: string) => ({ "airlock.installation": installation, "airlock.session": session });
    const token = randomBytes(24).toString("base64url");
    let handle: SandboxHandle;
    let ref: SandboxRef;
    let endpoint: SandboxdEndpoint;
    let relay: Relay;
    let acpSession = "";
    const progress: string[] = [];
    const created: SandboxHandle[] = [];

    beforeAll(async () => {
      fixture = await makeFixture();
      provider = fixture.provider();
    });
    afterAll(async () => {
      for (const h of created) await h.destroy().catch(() => {});
      await fixture?.close?.();
    });

    it("declares its capabilities and passes preflight here; a broken setup says what to fix", async () => {
      expect(provider.specificationVersion).toBe("v1");
      expect(typeof provider.capabilities.pause).toBe("boolean");
      expect(typeof provider.capabilities.keepAlive).toBe("boolean");
      expect(typeof provider.capabilities.network).toBe("boolean");
      const report = await provider.preflight();
      expect(report.ok, JSON.stringify(report.problems)).toBe(true);
      if (fixture.broken) {
        const bad = await fixture.broken().preflight();
        expect(bad.ok).toBe(false);
        expect(bad.problems.length).toBeGreaterThan(0);
        for (const p of bad.problems) {
          expect(p.code).toMatch(/^[a-z0-9_]+$/);
          expect(p.message.length).toBeGreaterThan(0);
          expect(p.fix.length).toBeGreaterThan(0);
        }
      }
    });

    it("creates a sandbox with its labels and a seeded workspace, confined reads and an empty diff", async () => {
      handle = await provider.create(
        {
          sessionId: `ses_${randomBytes(6).toString("hex")}`,
          labels: labelsOf("main"),
          network: false,
          seed: { files: { "a.txt": "hello\n", "dir/b.txt": "bee" } },
          resources: { cpuSeconds: 600, fileSizeMb: 64, pids: 256 },
          timeoutMs: 60_000,
        },
        (step) => progress.push(step),
      );
      created.push(handle);
      ref = handle.ref;
      expect(ref.provider).toBe(provider.name);
      // Declared, not guessed: a capability comes with its method.
      expect(typeof handle.pause === "function").toBe(provider.capabilities.pause);
      expect(typeof handle.keepAlive === "function").toBe(provider.capabilities.keepAlive);
      expect(progress.length).toBeGreaterThan(0);
      const root = await handle.readWorkspace("");
      expect(root.type).toBe("dir");
      expect(root.type === "dir" && root.entries.map((e) => [e.name, e.type])).toEqual([["dir", "dir"], ["a.txt", "file"]]);
      const file = await handle.readWorkspace("a.txt");
      expect(file.type === "file" && [file.content, file.encoding, file.size]).toEqual(["hello\n", "utf8", 6]);
      await expect(handle.readWorkspace("../outside")).rejects.toMatchObject({ code: "bad_request" });
      await expect(handle.readWorkspace("missing.txt")).rejects.toMatchObject({ code: "not_found" });
      expect(await handle.diff()).toMatchObject({ diff: "", truncated: false });
      expect((await provider.list(labelsOf("main"))).map((r) => r.id)).toContain(ref.id);
    });

    it("runs sandboxd with the agent, reachable only with the session's token; the agent writes files through it", async () => {
      endpoint = await handle.startSandboxd(fixture.agent ?? scriptedAgentLaunch(), token);
      expect(endpoint.token).toBe(token);
      const client = new SandboxdClient(endpoint);
      const health = await client.health();
      expect(health.agentRunning).toBe(true);
      await expect(new SandboxdClient({ ...endpoint, token: "wrong" }).health()).rejects.toMatchObject({ status: 401 });
      relay = new Relay(client);
      const init = await relay.call("init", "initialize", { protocolVersion: 1, clientCapabilities });
      expect(init.protocolVersion).toBe(1);
      acpSession = (await relay.call("new", "session/new", { cwd: handle.workspacePath ?? "/workspace", mcpServers: [] })).sessionId;
      const done = await relay.call("p1", "session/prompt", { sessionId: acpSession, prompt: [{ type: "text", text: "write notes/todo.txt buy milk" }] });
      expect(done.stopReason).toBe("end_turn");
      const changed = await relay.waitFor((rs) => rs.find((r) => r.kind === "file"), "a file record");
      expect(changed).toMatchObject({ path: "notes/todo.txt", change: "created" });
      const read = await handle.readWorkspace("notes/todo.txt");
      expect(read.type === "file" && read.content).toBe("buy milk\n");
      expect((await handle.diff()).diff).toMatch(/\+\+\+ b\/notes\/todo\.txt[\s\S]*\+buy milk/);
      // a retried start (the control plane crashed while starting) keeps the running relay and agent
      const retried = await handle.startSandboxd(fixture.agent ?? scriptedAgentLaunch(), token);
      expect(await new SandboxdClient(retried).health()).toMatchObject({ pid: health.pid, agentPid: health.agentPid });
    });

    it("runs the agent's commands as a user who cannot read sandboxd's token", async () => {
      if (!fixture.secretPath) return;
      const done = await relay.call("p2", "session/prompt", { sessionId: acpSession, prompt: [{ type: "text", text: `run cat ${fixture.secretPath(ref)}; id -u` }] });
      expect(done.stopReason).toBe("end_turn");
      const text = relay.text(acpSession);
      expect(text).not.toContain(token);
      expect(text).toMatch(/exit/i);
    });

    it("replaces a relay whose agent has exited with a new one that continues its journal", async () => {
      const before = await relay.client.health();
      await relay.client.send({ jsonrpc: "2.0", id: "crash", method: "session/prompt", params: { sessionId: acpSession, prompt: [{ type: "text", text: "crash" }] } });
      await relay.waitFor((rs) => rs.find((r) => r.kind === "exit"), "the agent's exit");
      expect((await relay.client.health()).agentRunning).toBe(false);
      endpoint = await handle.startSandboxd(fixture.agent ?? scriptedAgentLaunch(), token);
      const after = await new SandboxdClient(endpoint).health();
      expect(after.agentRunning).toBe(true);
      // A new relay (its own process, or a new session of a host relay) with a new agent.
      expect(after.agentPid).not.toBe(before.agentPid);
      expect(after.lastSeq).toBeGreaterThan(before.lastSeq);
      relay = new Relay(new SandboxdClient(endpoint));
      await relay.poll(0);
      expect(relay.records.map((r) => r.seq)).toEqual(relay.records.map((_, i) => i + 1));
      await relay.call("init2", "initialize", { protocolVersion: 1, clientCapabilities });
      acpSession = (await relay.call("new2", "session/new", { cwd: handle.workspacePath ?? "/workspace", mcpServers: [] })).sessionId;
    });

    it("re-attaches from a new provider object, as after a control-plane restart", async () => {
      const before = await new SandboxdClient(endpoint).health();
      const restarted = fixture.provider();
      expect(await restarted.connect({ ...ref, id: `${ref.id}-missing` })).toBeNull();
      const again = await restarted.connect(JSON.parse(JSON.stringify(ref)));
      expect(again).not.toBeNull();
      expect(await again!.findSandboxd("not-the-token")).toBeNull();
      const found = await again!.findSandboxd(token);
      expect(found).not.toBeNull();
      const health = await new SandboxdClient(found!).health();
      expect([health.pid, health.agentRunning]).toEqual([before.pid, true]);
      expect(health.lastSeq).toBeGreaterThanOrEqual(before.lastSeq);
      relay = new Relay(new SandboxdClient(found!));
      await relay.poll(0);
      expect(relay.records[0]?.seq).toBe(1);
      endpoint = found!;
      handle = again!;
    });

    it("keeps the sandbox alive while a turn runs past the provider's timeout", async (ctx) => {
      if (!provider.capabilities.keepAlive || !handle.keepAlive) return ctx.skip();
      await handle.keepAlive(2500);
      const turn = relay.call("slow", "session/prompt", { sessionId: acpSession, prompt: [{ type: "text", text: "slow 4" }] }, 30_000);
      const pusher = setInterval(() => void handle.keepAlive!(2500).catch(() => {}), 1000);
      try {
        const done = await turn;
        expect(done.stopReason).toBe("end_turn");
      } finally {
        clearInterval(pusher);
      }
      expect(relay.text(acpSession)).toContain("chunk 40");
      if (fixture.isPaused) expect(await fixture.isPaused(ref)).toBe(false);
      await handle.keepAlive(60_000);
    });

    it("pauses and resumes with the agent where it was; an expired timeout pauses too", async (ctx) => {
      if (!provider.capabilities.pause || !handle.pause) return ctx.skip();
      const before = await new SandboxdClient(endpoint).health();
      await handle.pause();
      if (fixture.isPaused) expect(await fixture.isPaused(ref)).toBe(true);
      await expect(new SandboxdClient(endpoint).health(2000)).rejects.toThrow();
      // The next prompt comes to a new provider object: connect + findSandboxd resume the sandbox.
      const resumed = await fixture.provider().connect(ref);
      const found = await resumed!.findSandboxd(token);
      expect(found).not.toBeNull();
      const after = await new SandboxdClient(found!).health();
      expect([after.pid, after.agentPid, after.agentRunning]).toEqual([before.pid, before.agentPid, true]);
      relay = new Relay(new SandboxdClient(found!));
      await relay.poll(0);
      const done = await relay.call("p3", "session/prompt", { sessionId: acpSession, prompt: [{ type: "text", text: "echo still here" }] });
      expect(done.stopReason).toBe("end_turn");
      handle = resumed!;
      endpoint = found!;
      if (fixture.expire && fixture.isPaused) {
        await fixture.expire(ref);
        expect(await fixture.isPaused(ref)).toBe(true);
        const back = await fixture.provider().connect(ref);
        expect(await back!.findSandboxd(token)).not.toBeNull();
        handle = back!;
      }
    });

    it("lists sandboxes by labels, so a new control plane finds and reaps its orphans", async () => {
      const orphan = await provider.create({ sessionId: `ses_${randomBytes(6).toString("hex")}`, labels: labelsOf("orphan"), network: false });
      created.push(orphan);
      const all = (await provider.list({ "airlock.installation": installation })).map((r) => r.id).sort();
      expect(all).toEqual([ref.id, orphan.ref.id].sort());
      expect((await provider.list(labelsOf("orphan"))).map((r) => r.id)).toEqual([orphan.ref.id]);
      expect(await provider.list({ "airlock.installation": "someone-else" })).toEqual([]);
      const later = fixture.provider();
      for (const r of await later.list(labelsOf("orphan"))) await (await later.connect(r))?.destroy();
      expect(await later.list(labelsOf("orphan"))).toEqual([]);
      expect(await fixture.leftovers(orphan.ref)).toEqual([]);
    });

    it("offers network access exactly as it declares", async () => {
      const spec = { sessionId: `ses_${randomBytes(6).toString("hex")}`, labels: labelsOf("net"), network: true };
      if (provider.capabilities.network) {
        const h = await provider.create(spec);
        created.push(h);
        await h.destroy();
      } else {
        await expect(provider.create(spec)).rejects.toMatchObject({ code: "bad_request" });
      }
      expect(await provider.list(labelsOf("net"))).toEqual([]);
    });

    it("destroys everything: no process, no files, no record; destroy is idempotent", async () => {
      await handle.destroy();
      await handle.destroy();
      expect(await fixture.leftovers(ref)).toEqual([]);
      expect(await fixture.provider().connect(ref)).toBeNull();
      expect(await provider.list({ "airlock.installation": installation })).toEqual([]);
      await expect(new SandboxdClient(endpoint).health(2000)).rejects.toThrow();
    });
  });
}
