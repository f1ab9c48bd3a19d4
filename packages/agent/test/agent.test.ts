/**
 * The built-in agent as any ACP client sees it: the bundle (built into a folder with no node_modules, so it
 * must be self-contained) runs as a child process, driven over stdio by the SDK's client, against the test
 * kit's scripted Anthropic server. A client that offers no `fs/*` and no `terminal/*` exercises the agent's
 * own file access and command runner; `session/load` in a new process replays the saved conversation.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import * as acp from "@agentclientprotocol/sdk";
import type { RequestPermissionRequest, RequestPermissionResponse, SessionUpdate } from "@agentclientprotocol/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";

const buildScript = fileURLToPath(new URL("../build.mjs", import.meta.url));
let root: string;
let agentFile: string;
let llm: FakeAnthropic;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "airlock-agent-test-"));
  // Built privately: other suites run the shared dist/ at the same time.
  execFileSync(process.execPath, [buildScript, "--outdir", join(root, "bin")], { stdio: "inherit" });
  agentFile = join(root, "bin", "airlock-agent.mjs");
  llm = await startFakeAnthropic();
});
afterAll(async () => {
  await llm?.close();
  rmSync(root, { recursive: true, force: true });
});

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  children.clear();
});

let folders = 0;
const folder = (name: string) => {
  const dir = join(root, `${name}-${++folders}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

interface Agent {
  ctx: acp.ClientContext;
  updates: SessionUpdate[];
  initialize: acp.InitializeResponse;
  prompt(sessionId: string, text: string): Promise<{ stopReason: string; updates: SessionUpdate[] }>;
}

async function withAgent<T>(env: Record<string, string>, op: (a: Agent) => Promise<T>, onPermission?: (p: RequestPermissionRequest) => Promise<RequestPermissionResponse>): Promise<T> {
  const child = spawn(process.execPath, [agentFile], {
    cwd: root,
    env: { PATH: process.env.PATH, ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: "test-token", AIRLOCK_AGENT_RETRY_BASE_MS: "1", ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.add(child);
  const updates: SessionUpdate[] = [];
  const app = acp
    .client({ name: "test-client" })
    .onNotification(acp.methods.client.session.update, ({ params }) => void updates.push(params.update))
    .onRequest(acp.methods.client.session.requestPermission, ({ params }) => (onPermission ? onPermission(params) : Promise.resolve({ outcome: { outcome: "selected", optionId: "allow" } })));
  const stream = acp.ndJsonStream(Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>);
  return app.connectWith(stream, async (ctx) => {
    // No fs and no terminal: the agent must use its own.
    const initialize = await ctx.request(acp.methods.agent.initialize, { protocolVersion: acp.PROTOCOL_VERSION, clientCapabilities: {} });
    const prompt = async (sessionId: string, text: string) => {
      const from = updates.length;
      const { stopReason } = await ctx.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: "text", text }] });
      await new Promise((r) => setTimeout(r, 30)); // notifications are handled asynchronously
      return { stopReason, updates: updates.slice(from) };
    };
    return op({ ctx, updates, initialize, prompt });
  });
}

const text = (updates: SessionUpdate[]) => updates.map((u) => (u.sessionUpdate === "agent_message_chunk" && u.content.type === "text" ? u.content.text : "")).join("");
const toolResults = () => (llm.requests.at(-1)!.body.messages.at(-1).content as any[]).filter((b) => b.type === "tool_result");

describe("the built-in agent over stdio", () => {
  it("answers initialize with its capabilities, from a bundle that needs no node_modules", async () => {
    await withAgent({ HOME: folder("home") }, async ({ initialize }) => {
      expect(initialize.agentInfo?.name).toBe("airlock-agent");
      expect(initialize.agentCapabilities?.loadSession).toBe(true);
      expect(initialize.agentCapabilities?.promptCapabilities?.image).toBe(true);
    });
  });

  it("without client fs/terminal, writes and reads files itself and runs commands with live output", async () => {
    const cwd = folder("ws");
    writeFileSync(join(cwd, "notes.md"), "line one\nline two\n");
    await withAgent({ HOME: folder("home"), AIRLOCK_AGENT_PERMISSION_MODE: "auto" }, async ({ ctx, prompt }) => {
      const { sessionId } = await ctx.request(acp.methods.agent.session.new, { cwd, mcpServers: [] });
      llm.reply(
        { toolUse: [{ name: "write_file", input: { path: "out/made.txt", content: "made here\n" } }, { name: "read_file", input: { path: "notes.md", offset: 2 } }] },
        { toolUse: [{ name: "run_command", input: { command: "echo first; sleep 0.6; echo second" } }] },
        { text: "All done." },
      );
      const turn = await prompt(sessionId, "work");
      expect(turn.stopReason).toBe("end_turn");
      expect(readFileSync(join(cwd, "out/made.txt"), "utf8")).toBe("made here\n");
      const commandResult = toolResults()[0];
      expect(commandResult.content).toMatch(/first\nsecond\n\[exit code 0\]/);
      const second = llm.requests.at(-2)!.body.messages.at(-1).content as any[];
      expect(second[1].content).toBe("     2\tline two\n");
      // The output showed while the command ran: an update carried "first" before the one that completed it.
      const live = turn.updates.filter((u) => u.sessionUpdate === "tool_call_update" && JSON.stringify(u.content ?? "").includes("first"));
      expect(live.some((u) => u.sessionUpdate === "tool_call_update" && u.status !== "completed" && !JSON.stringify(u.content).includes("second"))).toBe(true);
      expect(text(turn.updates)).toBe("All done.");
    });
  });

  it("comes back in a new process with session/load: the conversation is replayed and continued", async () => {
    const cwd = folder("ws");
    const home = folder("home");
    let sessionId = "";
    await withAgent({ HOME: home, AIRLOCK_AGENT_PERMISSION_MODE: "auto" }, async ({ ctx, prompt }) => {
      ({ sessionId } = await ctx.request(acp.methods.agent.session.new, { cwd, mcpServers: [] }));
      llm.reply({ text: "Looking." , toolUse: [{ name: "list_files", input: {} }] }, { text: "The folder is empty." });
      expect((await prompt(sessionId, "what is here?")).stopReason).toBe("end_turn");
    });
    await withAgent({ HOME: home }, async ({ ctx, updates, prompt }) => {
      await expect(ctx.request(acp.methods.agent.session.load, { sessionId: "agent_unknown", cwd, mcpServers: [] })).rejects.toThrow();
      await ctx.request(acp.methods.agent.session.load, { sessionId, cwd, mcpServers: [] });
      await new Promise((r) => setTimeout(r, 30));
      const replay = updates.map((u) => u.sessionUpdate);
      expect(replay.slice(0, 4)).toEqual(["user_message_chunk", "agent_message_chunk", "tool_call", "agent_message_chunk"]);
      expect(updates.find((u) => u.sessionUpdate === "tool_call")).toMatchObject({ kind: "search", status: "completed", title: "List the workspace" });
      llm.reply({ text: "Still empty." });
      expect((await prompt(sessionId, "and now?")).stopReason).toBe("end_turn");
      expect(JSON.stringify(llm.requests.at(-1)!.body.messages)).toContain("The folder is empty.");
    });
  });

  it("undoes a failed prompt whole: the next request alternates user and assistant and holds nothing of it, also after session/load", async () => {
    const cwd = folder("ws");
    const home = folder("home");
    const roles = (r: { body: any }) => r.body.messages.map((m: any) => m.role);
    const sent = (r: { body: any }) => JSON.stringify(r.body.messages);
    let sessionId = "";
    await withAgent({ HOME: home, AIRLOCK_AGENT_PERMISSION_MODE: "auto" }, async ({ ctx, prompt }) => {
      ({ sessionId } = await ctx.request(acp.methods.agent.session.new, { cwd, mcpServers: [] }));
      llm.reply({ text: "Hello." });
      expect((await prompt(sessionId, "greet me")).stopReason).toBe("end_turn");

      // A 400 for the prompt's content: the prompt fails with the API's words.
      llm.reply({ error: { status: 400, type: "invalid_request_error", message: "this prompt is refused" } });
      await expect(prompt(sessionId, "POISON-ONE")).rejects.toThrow(/400 invalid_request_error.*this prompt is refused/);
      // A turn that failed after a tool ran and part of an answer streamed: all of it is dropped too.
      llm.reply(
        { text: "Let me look.", toolUse: [{ name: "list_files", input: {} }] },
        { text: "PARTIAL-ANSWER", streamError: { afterBlocks: 1, type: "invalid_request_error", message: "refused mid-answer" } },
      );
      await expect(prompt(sessionId, "POISON-TWO")).rejects.toThrow(/refused mid-answer/);

      llm.reply({ text: "Fine again." });
      expect((await prompt(sessionId, "are you there?")).stopReason).toBe("end_turn");
      const next = llm.requests.at(-1)!;
      expect(roles(next)).toEqual(["user", "assistant", "user"]);
      expect(sent(next)).toContain("are you there?");
      for (const gone of ["POISON", "Let me look.", "PARTIAL-ANSWER", "tool_use", "tool_result"]) expect(sent(next)).not.toContain(gone);
      // Failing last, it leaves nothing in the saved history either.
      llm.reply({ error: { status: 400, type: "invalid_request_error", message: "refused again" } });
      await expect(prompt(sessionId, "POISON-THREE")).rejects.toThrow(/refused again/);
    });
    await withAgent({ HOME: home }, async ({ ctx, updates, prompt }) => {
      await ctx.request(acp.methods.agent.session.load, { sessionId, cwd, mcpServers: [] });
      await new Promise((r) => setTimeout(r, 30));
      expect(JSON.stringify(updates)).not.toContain("POISON");
      llm.reply({ text: "Still here." });
      expect((await prompt(sessionId, "after the reload")).stopReason).toBe("end_turn");
      const next = llm.requests.at(-1)!;
      expect(roles(next)).toEqual(["user", "assistant", "user", "assistant", "user"]);
      expect(sent(next)).not.toContain("POISON");
    });
  });

  it("answers /context from the workspace without calling the model", async () => {
    const cwd = folder("ws");
    writeFileSync(join(cwd, "go.mod"), "module example.com/demo\n");
    await withAgent({ HOME: folder("home") }, async ({ ctx, prompt, updates }) => {
      const { sessionId } = await ctx.request(acp.methods.agent.session.new, { cwd, mcpServers: [] });
      await new Promise((r) => setTimeout(r, 30));
      expect(updates.some((u) => u.sessionUpdate === "available_commands_update" && u.availableCommands.some((c) => c.name === "context"))).toBe(true);
      const before = llm.requests.length;
      const turn = await prompt(sessionId, "/context");
      expect(text(turn.updates)).toContain("module example.com/demo");
      expect(llm.requests.length).toBe(before);
    });
  });

  it("cancel while a permission request waits ends the prompt cancelled, and the change is not made", async () => {
    const cwd = folder("ws");
    let asked!: () => void;
    const waiting = new Promise<void>((r) => (asked = r));
    await withAgent(
      { HOME: folder("home") },
      async ({ ctx, prompt }) => {
        const { sessionId } = await ctx.request(acp.methods.agent.session.new, { cwd, mcpServers: [] });
        llm.reply({ toolUse: [{ name: "write_file", input: { path: "never.txt", content: "x" } }] });
        const turn = prompt(sessionId, "write it");
        await waiting;
        await ctx.notify(acp.methods.agent.session.cancel, { sessionId });
        expect((await turn).stopReason).toBe("cancelled");
        expect(() => readFileSync(join(cwd, "never.txt"))).toThrow();
      },
      // Never answered: the cancel alone must end the wait.
      () => (asked(), new Promise(() => {})),
    );
  });
});
