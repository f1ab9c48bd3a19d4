/**
 * The scripted agent as a client sees it: the bundle built by build.mjs runs as a child process (from a folder
 * with no node_modules, so it must be self-contained) and is driven by the SDK's client over stdio.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import * as acp from "@agentclientprotocol/sdk";
import type { ClientCapabilities, CreateElicitationRequest, CreateElicitationResponse, RequestPermissionRequest, RequestPermissionResponse, SessionUpdate } from "@agentclientprotocol/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const buildScript = fileURLToPath(new URL("../build.mjs", import.meta.url));
let root: string;
let agentFile: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "scripted-agent-test-"));
  agentFile = join(root, "bin", "scripted-agent.mjs");
  // Built to a private file: other suites run the shared dist/ bundle at the same time.
  execFileSync(process.execPath, [buildScript, "--outfile", agentFile], { stdio: "inherit" });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.clear();
});

const fullCapabilities: ClientCapabilities = { fs: { readTextFile: true, writeTextFile: true }, terminal: true, elicitation: { form: {} } };

interface Options {
  capabilities?: ClientCapabilities;
  /** HOME of the agent: where it saves session histories. */
  home?: string;
  onPermission?: (params: RequestPermissionRequest, signal: AbortSignal) => Promise<RequestPermissionResponse>;
  onElicitation?: (params: CreateElicitationRequest) => Promise<CreateElicitationResponse>;
}

interface Harness {
  ctx: acp.ClientContext;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** A fresh workspace folder. */
  cwd: string;
  updates: Array<{ sessionId: string; update: SessionUpdate }>;
  initialize: acp.InitializeResponse;
  calls: string[];
  newSession(): Promise<string>;
  /** Prompts and returns the turn's stop reason and the updates it produced. */
  prompt(sessionId: string, text: string): Promise<{ stopReason: string; updates: SessionUpdate[] }>;
}

let folders = 0;
const newFolder = (name: string) => {
  const dir = join(root, `${name}-${++folders}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitUntil(check: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Notification handlers run asynchronously: a response can be seen before the updates sent just before it. */
const settle = () => sleep(30);

const textOf = (updates: SessionUpdate[], kind = "agent_message_chunk") =>
  updates
    .filter((u) => u.sessionUpdate === kind)
    .map((u) => ((u as { content: { type: string; text?: string } }).content.text ?? ""))
    .join("");

async function withAgent<T>(options: Options, op: (h: Harness) => Promise<T>): Promise<T> {
  const home = options.home ?? newFolder("home");
  const child = spawn(process.execPath, [agentFile], {
    cwd: dirname(agentFile),
    env: { PATH: process.env.PATH, HOME: home },
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const updates: Harness["updates"] = [];
  const calls: string[] = [];
  const terminals = new Map<string, { output: string; exit: Promise<{ exitCode: number | null; signal: string | null }>; proc: ChildProcess }>();
  let terminalCount = 0;

  const app = acp
    .client({ name: "test-client" })
    .onNotification(acp.methods.client.session.update, ({ params }) => {
      updates.push({ sessionId: params.sessionId, update: params.update });
    })
    .onRequest(acp.methods.client.session.requestPermission, ({ params, signal }) => {
      calls.push("session/request_permission");
      return options.onPermission ? options.onPermission(params, signal) : Promise.resolve({ outcome: { outcome: "selected", optionId: "allow" } });
    })
    .onRequest(acp.methods.client.elicitation.create, ({ params }) => {
      calls.push("elicitation/create");
      return options.onElicitation ? options.onElicitation(params) : Promise.resolve({ action: "decline" });
    })
    .onRequest(acp.methods.client.fs.writeTextFile, ({ params }) => {
      calls.push(`fs/write_text_file ${params.path}`);
      mkdirSync(dirname(params.path), { recursive: true });
      writeFileSync(params.path, params.content);
      return {};
    })
    .onRequest(acp.methods.client.fs.readTextFile, ({ params }) => {
      calls.push(`fs/read_text_file ${params.path}`);
      return { content: readFileSync(params.path, "utf8") };
    })
    .onRequest(acp.methods.client.terminal.create, ({ params }) => {
      calls.push(`terminal/create ${params.command} ${JSON.stringify(params.args)}`);
      const proc = spawn(params.command, params.args ?? [], { cwd: params.cwd ?? undefined });
      const entry = { output: "", proc, exit: new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => proc.once("exit", (exitCode, signal) => resolve({ exitCode, signal }))) };
      proc.stdout.on("data", (d) => (entry.output += d));
      proc.stderr.on("data", (d) => (entry.output += d));
      const terminalId = `term_${++terminalCount}`;
      terminals.set(terminalId, entry);
      return { terminalId };
    })
    .onRequest(acp.methods.client.terminal.waitForExit, async ({ params }) => {
      calls.push("terminal/wait_for_exit");
      return terminals.get(params.terminalId)!.exit;
    })
    .onRequest(acp.methods.client.terminal.output, async ({ params }) => {
      calls.push("terminal/output");
      const t = terminals.get(params.terminalId)!;
      return { output: t.output, truncated: false, exitStatus: t.proc.exitCode === null && t.proc.signalCode === null ? null : await t.exit };
    })
    .onRequest(acp.methods.client.terminal.kill, ({ params }) => {
      calls.push("terminal/kill");
      terminals.get(params.terminalId)?.proc.kill("SIGKILL");
      return {};
    })
    .onRequest(acp.methods.client.terminal.release, ({ params }) => {
      calls.push("terminal/release");
      terminals.get(params.terminalId)?.proc.kill("SIGKILL");
      terminals.delete(params.terminalId);
      return {};
    });

  const stream = acp.ndJsonStream(Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>, Readable.toWeb(child.stdout!) as ReadableStream<Uint8Array>);
  try {
    return await app.connectWith(stream, async (ctx) => {
      const initialize = await ctx.request(acp.methods.agent.initialize, {
        protocolVersion: acp.PROTOCOL_VERSION,
        clientCapabilities: options.capabilities ?? fullCapabilities,
        clientInfo: { name: "test-client", version: "0" },
      });
      const cwd = newFolder("workspace");
      const harness: Harness = {
        ctx,
        child,
        exited,
        cwd,
        updates,
        initialize,
        calls,
        async newSession() {
          const { sessionId } = await ctx.request(acp.methods.agent.session.new, { cwd, mcpServers: [] });
          return sessionId;
        },
        async prompt(sessionId, text) {
          const from = updates.length;
          const { stopReason } = await ctx.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: "text", text }] });
          await settle();
          return { stopReason, updates: updates.slice(from).filter((u) => u.sessionId === sessionId).map((u) => u.update) };
        },
      };
      return op(harness);
    });
  } finally {
    child.stdin?.end();
    const code = await Promise.race([exited, sleep(3000).then(() => "timeout" as const)]);
    if (code === "timeout") child.kill("SIGKILL");
  }
}

describe("scripted agent: protocol", () => {
  it("initializes, creates sessions with modes, accepts set_mode", async () => {
    await withAgent({}, async (h) => {
      expect(h.initialize.protocolVersion).toBe(1);
      expect(h.initialize.agentInfo).toMatchObject({ name: "airlock-scripted", title: "Scripted demo agent" });
      expect(h.initialize.agentInfo?.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(h.initialize.agentCapabilities?.loadSession).toBe(true);
      expect(h.initialize.agentCapabilities?.promptCapabilities?.image).toBe(false);
      expect(h.initialize.authMethods).toEqual([]);

      const created = await h.ctx.request(acp.methods.agent.session.new, { cwd: h.cwd, mcpServers: [] });
      const other = await h.newSession();
      expect(created.sessionId).not.toBe(other);
      expect(created.modes?.availableModes.map((m) => m.id)).toEqual(["ask", "acceptEdits", "auto"]);
      expect(created.modes?.currentModeId).toBe("ask");
      await expect(h.ctx.request(acp.methods.agent.session.setMode, { sessionId: created.sessionId, modeId: "auto" })).resolves.toEqual({});
      await expect(h.ctx.request(acp.methods.agent.session.setMode, { sessionId: created.sessionId, modeId: "yolo" })).rejects.toThrow(/unknown mode/);
      await expect(h.prompt("no-such-session", "hi")).rejects.toThrow();
    });
  });

  it("with no keyword, introduces itself in a few chunks that name keywords to try", async () => {
    await withAgent({}, async (h) => {
      const turn = await h.prompt(await h.newSession(), "Hello there!");
      expect(turn.stopReason).toBe("end_turn");
      const chunks = turn.updates.filter((u) => u.sessionUpdate === "agent_message_chunk");
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      expect(chunks.length).toBeLessThanOrEqual(5);
      const text = textOf(turn.updates);
      for (const word of ["think", "plan", "tool", "permission", "write", "read", "run", "slow", "echo", "recall"]) expect(text).toContain(`\`${word}`);
    });
  });
});

describe("scripted agent: conversation", () => {
  it("echo replies with the prompt verbatim; keywords match whole words in any case", async () => {
    await withAgent({}, async (h) => {
      const id = await h.newSession();
      const text = "Please ECHO this back:\n  two  spaces, and a tool_call that is not `tool`";
      expect(textOf((await h.prompt(id, text)).updates)).toBe(text);
      // "readme" is not `read`, "echoes" is not `echo`: no keyword, so the introduction
      expect(textOf((await h.prompt(id, "readme echoes")).updates)).toContain("scripted demo agent");
    });
  });

  it("recall lists the earlier prompts, and after session/load in a new process with the same HOME", async () => {
    const home = newFolder("home");
    const sessionId = await withAgent({ home }, async (h) => {
      const id = await h.newSession();
      expect(textOf((await h.prompt(id, "recall")).updates)).toMatch(/first prompt/);
      await h.prompt(id, "echo first");
      await h.prompt(id, "echo second");
      const text = textOf((await h.prompt(id, "recall")).updates);
      expect(text).toContain("1. recall\n2. echo first\n3. echo second\n");
      // another session has its own memory
      expect(textOf((await h.prompt(await h.newSession(), "recall")).updates)).toMatch(/first prompt/);
      return id;
    });
    expect(existsSync(join(home, ".airlock-scripted", "sessions", `${sessionId}.json`))).toBe(true);

    await withAgent({ home }, async (h) => {
      const loaded = await h.ctx.request(acp.methods.agent.session.load, { sessionId, cwd: h.cwd, mcpServers: [] });
      expect(loaded).toEqual({});
      await settle();
      const replay = h.updates.filter((u) => u.sessionId === sessionId).map((u) => u.update);
      expect(replay.filter((u) => u.sessionUpdate === "user_message_chunk").map((u) => (u as any).content.text)).toEqual(["recall", "echo first", "echo second", "recall"]);
      expect(replay.map((u) => u.sessionUpdate)).toEqual(["user_message_chunk", "agent_message_chunk", "user_message_chunk", "agent_message_chunk", "user_message_chunk", "agent_message_chunk", "user_message_chunk", "agent_message_chunk"]);
      expect((replay[3] as any).content.text).toBe("echo first");
      const text = textOf((await h.prompt(sessionId, "recall please")).updates);
      expect(text).toContain("1. recall\n2. echo first\n3. echo second\n4. recall\n");
    });
  });

  it("keeps history in memory when HOME is not writable", async () => {
    const home = join(newFolder("home"), "a-file");
    writeFileSync(home, "not a folder");
    await withAgent({ home }, async (h) => {
      const id = await h.newSession();
      await h.prompt(id, "echo remember me");
      expect(textOf((await h.prompt(id, "recall")).updates)).toContain("1. echo remember me");
    });
  });

  it("think alternates thoughts and messages", async () => {
    await withAgent({}, async (h) => {
      const turn = await h.prompt(await h.newSession(), "think about it");
      expect(turn.stopReason).toBe("end_turn");
      const kinds = turn.updates.map((u) => u.sessionUpdate).filter((k, i, all) => k !== all[i - 1]);
      expect(kinds).toEqual(["agent_thought_chunk", "agent_message_chunk", "agent_thought_chunk", "agent_message_chunk"]);
      expect(turn.updates.filter((u) => u.sessionUpdate === "agent_thought_chunk").length).toBeGreaterThanOrEqual(4);
    });
  });
});

describe("scripted agent: tool calls and plans", () => {
  it("tool: a pending edit, in progress, completed with a diff, then a message", async () => {
    await withAgent({}, async (h) => {
      const turn = await h.prompt(await h.newSession(), "use a tool");
      expect(turn.stopReason).toBe("end_turn");
      const [call, progress, done, ...rest] = turn.updates as any[];
      const path = join(h.cwd, "greeting.ts");
      expect(call).toMatchObject({ sessionUpdate: "tool_call", kind: "edit", status: "pending", locations: [{ path }], rawInput: { path } });
      expect(call.title).toBeTruthy();
      expect(progress).toMatchObject({ sessionUpdate: "tool_call_update", toolCallId: call.toolCallId, status: "in_progress" });
      expect(done).toMatchObject({ sessionUpdate: "tool_call_update", toolCallId: call.toolCallId, status: "completed" });
      expect(done.content).toEqual([{ type: "diff", path, oldText: expect.stringContaining("Hello"), newText: expect.stringContaining("Hello, world") }]);
      expect(rest.map((u) => u.sessionUpdate)).toEqual(["agent_message_chunk"]);
      expect(existsSync(path)).toBe(false);
    });
  });

  it("plan: three entries, then completed one by one", async () => {
    await withAgent({}, async (h) => {
      const turn = await h.prompt(await h.newSession(), "make a plan");
      const plans = turn.updates.filter((u) => u.sessionUpdate === "plan") as Array<{ entries: Array<{ status: string; content: string }> }>;
      expect(plans).toHaveLength(4);
      for (const plan of plans) expect(plan.entries).toHaveLength(3);
      expect(plans.map((p) => p.entries.map((e) => e.status))).toEqual([
        ["pending", "pending", "pending"],
        ["completed", "pending", "pending"],
        ["completed", "completed", "pending"],
        ["completed", "completed", "completed"],
      ]);
      expect(turn.updates.at(-1)!.sessionUpdate).toBe("agent_message_chunk");
    });
  });
});

describe("scripted agent: permission", () => {
  it("sends the three options and, when allowed, writes permitted.txt through fs/write_text_file", async () => {
    let request: RequestPermissionRequest | undefined;
    for (const optionId of ["allow", "allow_always"]) {
      await withAgent({ onPermission: async (params) => ((request = params), { outcome: { outcome: "selected", optionId } }) }, async (h) => {
        const turn = await h.prompt(await h.newSession(), "permission please");
        expect(turn.stopReason).toBe("end_turn");
        expect(request!.options).toEqual([
          { optionId: "allow", name: "Allow", kind: "allow_once" },
          { optionId: "allow_always", name: "Always allow", kind: "allow_always" },
          { optionId: "reject", name: "Reject", kind: "reject_once" },
        ]);
        const call = turn.updates[0] as any;
        expect(call).toMatchObject({ sessionUpdate: "tool_call", status: "pending" });
        expect(request!.toolCall.toolCallId).toBe(call.toolCallId);
        expect(readFileSync(join(h.cwd, "permitted.txt"), "utf8")).toBe("approved\n");
        expect(h.calls).toContain(`fs/write_text_file ${join(h.cwd, "permitted.txt")}`);
        expect(turn.updates.some((u: any) => u.sessionUpdate === "tool_call_update" && u.toolCallId === call.toolCallId && u.status === "completed")).toBe(true);
        expect(textOf(turn.updates)).toContain(`Permission granted (${optionId})`);
      });
    }
  });

  it("when rejected, fails the tool call, writes nothing and ends the turn", async () => {
    await withAgent({ onPermission: async () => ({ outcome: { outcome: "selected", optionId: "reject" } }) }, async (h) => {
      const turn = await h.prompt(await h.newSession(), "permission");
      expect(turn.stopReason).toBe("end_turn");
      expect(turn.updates.some((u: any) => u.sessionUpdate === "tool_call_update" && u.status === "failed")).toBe(true);
      expect(textOf(turn.updates)).toContain("Permission denied");
      expect(existsSync(join(h.cwd, "permitted.txt"))).toBe(false);
    });
  });

  it("a `cancelled` outcome ends the turn as cancelled", async () => {
    await withAgent({ onPermission: async () => ({ outcome: { outcome: "cancelled" } }) }, async (h) => {
      const turn = await h.prompt(await h.newSession(), "permission");
      expect(turn.stopReason).toBe("cancelled");
      expect(existsSync(join(h.cwd, "permitted.txt"))).toBe(false);
    });
  });

  it("session/cancel while the request is pending answers `cancelled` promptly, even if the client never answers it", async () => {
    let asked = false;
    let requestSignal: AbortSignal | undefined;
    await withAgent({ onPermission: (_params, signal) => ((asked = true), (requestSignal = signal), new Promise(() => {})) }, async (h) => {
      const id = await h.newSession();
      const pending = h.ctx.request(acp.methods.agent.session.prompt, { sessionId: id, prompt: [{ type: "text", text: "permission" }] });
      await waitUntil(() => asked, 5000, "the permission request");
      await sleep(300); // it waits as long as it takes
      const t0 = Date.now();
      await h.ctx.notify(acp.methods.agent.session.cancel, { sessionId: id });
      expect((await pending).stopReason).toBe("cancelled");
      expect(Date.now() - t0).toBeLessThan(800);
      // the agent withdrew its request ($/cancel_request)
      await waitUntil(() => requestSignal!.aborted, 2000, "request withdrawn");
      expect(existsSync(join(h.cwd, "permitted.txt"))).toBe(false);
      // and the session takes the next prompt
      expect(textOf((await h.prompt(id, "echo still here")).updates)).toBe("echo still here");
    });
  });
});

describe("scripted agent: files and terminal", () => {
  it("write and read go through the client's fs methods; errors become a message", async () => {
    await withAgent({}, async (h) => {
      const id = await h.newSession();
      const wrote = await h.prompt(id, "write notes/hello.md Hello there,\nsecond line");
      expect(wrote.stopReason).toBe("end_turn");
      expect(readFileSync(join(h.cwd, "notes/hello.md"), "utf8")).toBe("Hello there,\nsecond line\n");
      expect(textOf(wrote.updates)).toContain("Wrote notes/hello.md");

      const read = await h.prompt(id, "read notes/hello.md");
      expect(read.stopReason).toBe("end_turn");
      expect(textOf(read.updates)).toContain("Hello there,\nsecond line\n");
      expect(h.calls).toContain(`fs/read_text_file ${join(h.cwd, "notes/hello.md")}`);

      const missing = await h.prompt(id, "read missing.txt");
      expect(missing.stopReason).toBe("end_turn");
      expect(textOf(missing.updates)).toMatch(/^Could not read missing\.txt: .*ENOENT/);
    });
  });

  it("run: a terminal embedded in an execute tool call, then the output and exit code", async () => {
    await withAgent({}, async (h) => {
      const turn = await h.prompt(await h.newSession(), "run echo hello from $(basename $PWD); echo oops >&2; exit 4");
      expect(turn.stopReason).toBe("end_turn");
      expect(h.calls[0]).toBe(`terminal/create sh ${JSON.stringify(["-c", "echo hello from $(basename $PWD); echo oops >&2; exit 4"])}`);
      expect(h.calls.slice(1)).toEqual(["terminal/wait_for_exit", "terminal/output", "terminal/release"]);
      const call = turn.updates[0] as any;
      expect(call).toMatchObject({ sessionUpdate: "tool_call", kind: "execute", content: [{ type: "terminal", terminalId: "term_1" }] });
      expect(turn.updates.some((u: any) => u.sessionUpdate === "tool_call_update" && u.toolCallId === call.toolCallId && u.status === "failed")).toBe(true);
      const text = textOf(turn.updates);
      expect(text).toContain(`hello from ${h.cwd.split("/").at(-1)}`);
      expect(text).toContain("oops");
      expect(text).toContain("exit code 4");
    });
  });

  it("cancel of a running command kills it and answers `cancelled`", async () => {
    await withAgent({}, async (h) => {
      const id = await h.newSession();
      const pending = h.ctx.request(acp.methods.agent.session.prompt, { sessionId: id, prompt: [{ type: "text", text: "run sleep 30" }] });
      await waitUntil(() => h.calls.includes("terminal/wait_for_exit"), 5000, "the command");
      const t0 = Date.now();
      await h.ctx.notify(acp.methods.agent.session.cancel, { sessionId: id });
      expect((await pending).stopReason).toBe("cancelled");
      expect(Date.now() - t0).toBeLessThan(800);
      await waitUntil(() => h.calls.includes("terminal/kill") && h.calls.includes("terminal/release"), 2000, "kill and release");
    });
  });

  it("without fs or terminal capabilities it says so and calls nothing", async () => {
    await withAgent({ capabilities: {} }, async (h) => {
      const id = await h.newSession();
      for (const [prompt, says] of [
        ["write a.txt hi", /no file writing/],
        ["read a.txt", /no file reading/],
        ["run ls", /no terminal/],
        ["ask me", /cannot show forms/],
      ] as const) {
        const turn = await h.prompt(id, prompt);
        expect(turn.stopReason).toBe("end_turn");
        expect(textOf(turn.updates)).toMatch(says);
      }
      expect(h.calls).toEqual([]);
      expect(existsSync(join(h.cwd, "a.txt"))).toBe(false);
    });
  });
});

describe("scripted agent: ask", () => {
  it("asks a form question through elicitation/create and uses the answer", async () => {
    let asked: CreateElicitationRequest | undefined;
    await withAgent({ onElicitation: async (params) => ((asked = params), { action: "accept", content: { name: "Ada", colour: "green" } }) }, async (h) => {
      const id = await h.newSession();
      const turn = await h.prompt(id, "ask me something");
      expect(turn.stopReason).toBe("end_turn");
      expect(asked).toMatchObject({ mode: "form", sessionId: id, requestedSchema: { type: "object", required: ["name"] } });
      expect(textOf(turn.updates)).toBe("Nice to meet you, Ada! Green is a fine colour.");
    });
    await withAgent({ onElicitation: async () => ({ action: "decline" }) }, async (h) => {
      expect(textOf((await h.prompt(await h.newSession(), "ask")).updates)).toMatch(/declined/);
    });
  });
});

describe("scripted agent: control", () => {
  it("slow streams a chunk every 100 ms until done", async () => {
    await withAgent({}, async (h) => {
      const t0 = Date.now();
      const turn = await h.prompt(await h.newSession(), "slow 0.5");
      expect(turn.stopReason).toBe("end_turn");
      expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
      const chunks = turn.updates.filter((u) => u.sessionUpdate === "agent_message_chunk");
      expect(chunks).toHaveLength(5);
      expect(new Set(chunks.map((c) => JSON.stringify(c))).size).toBe(5);
      expect(textOf(turn.updates)).toMatch(/^Streaming one chunk every 100 ms: chunk 1, chunk 2, chunk 3, chunk 4, chunk 5\. Done\.$/);
    });
  });

  it("cancel of slow answers `cancelled` promptly and sends nothing after", async () => {
    await withAgent({}, async (h) => {
      const id = await h.newSession();
      const pending = h.ctx.request(acp.methods.agent.session.prompt, { sessionId: id, prompt: [{ type: "text", text: "slow" }] });
      await waitUntil(() => h.updates.length >= 3, 5000, "slow chunks");
      const t0 = Date.now();
      await h.ctx.notify(acp.methods.agent.session.cancel, { sessionId: id });
      expect((await pending).stopReason).toBe("cancelled");
      expect(Date.now() - t0).toBeLessThan(800);
      await settle();
      const count = h.updates.length;
      await sleep(300);
      expect(h.updates.length).toBe(count);
      expect(count).toBeLessThan(20);
    });
  });

  it("hang never answers until cancelled", async () => {
    await withAgent({}, async (h) => {
      const id = await h.newSession();
      let answered = false;
      const pending = h.ctx.request(acp.methods.agent.session.prompt, { sessionId: id, prompt: [{ type: "text", text: "hang" }] }).finally(() => (answered = true));
      await sleep(400);
      expect(answered).toBe(false);
      await h.ctx.notify(acp.methods.agent.session.cancel, { sessionId: id });
      expect((await pending).stopReason).toBe("cancelled");
    });
  });

  it("error answers the prompt with a JSON-RPC error, and the session goes on", async () => {
    await withAgent({}, async (h) => {
      const id = await h.newSession();
      const failed = await h.prompt(id, "error").catch((err) => err);
      expect(failed).toBeInstanceOf(acp.RequestError);
      expect(failed.message).toBe("scripted failure");
      expect(textOf((await h.prompt(id, "echo fine")).updates)).toBe("echo fine");
    });
  });

  it("crash sends one chunk, then exits with code 3 mid-turn", async () => {
    let harness: Harness | undefined;
    let answer: string | undefined;
    // The client's connection closes when the process dies, which ends connectWith too.
    const ended = await withAgent({}, async (h) => {
      harness = h;
      const id = await h.newSession();
      answer = await h.ctx.request(acp.methods.agent.session.prompt, { sessionId: id, prompt: [{ type: "text", text: "crash" }] }).then(
        () => "answered",
        (err) => `rejected: ${err.message}`,
      );
    }).then(
      () => "resolved",
      (err) => `rejected: ${err.message}`,
    );
    expect(ended).toMatch(/connection closed|resolved/);
    expect(await harness!.exited).toBe(3);
    expect(answer ?? "never answered").not.toBe("answered");
    expect(harness!.updates.map((u) => u.update.sessionUpdate)).toEqual(["agent_message_chunk"]);
  });
});

describe("scripted agent: burst", () => {
  it("burst 1000: exactly 1000 chunks, in order, stamped with a Date.now() clock", async () => {
    await withAgent({}, async (h) => {
      const id = await h.newSession();
      await h.prompt(id, "echo before");
      const t0 = Date.now();
      const turn = await h.prompt(id, "burst 1000");
      const t1 = Date.now();
      expect(turn.stopReason).toBe("end_turn");
      expect(turn.updates).toHaveLength(1000);
      const metas = turn.updates.map((u: any) => {
        expect(u).toMatchObject({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: "x" } });
        return u._meta as { airlockTs: number; i: number };
      });
      expect(metas.map((m) => m.i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      for (let i = 1; i < metas.length; i++) expect(metas[i].airlockTs).toBeGreaterThanOrEqual(metas[i - 1].airlockTs);
      expect(metas[0].airlockTs).toBeGreaterThanOrEqual(t0 - 50);
      expect(metas.at(-1)!.airlockTs).toBeLessThanOrEqual(t1 + 50);
      expect(metas.some((m) => !Number.isInteger(m.airlockTs))).toBe(true); // sub-millisecond
      // the session goes on normally after raw lines
      expect(textOf((await h.prompt(id, "echo after")).updates)).toBe("echo after");
    });
  });

  it("burst with a rate is paced, and cancel stops it", async () => {
    await withAgent({}, async (h) => {
      const id = await h.newSession();
      const turn = await h.prompt(id, "burst 30 rate 100");
      expect(turn.updates).toHaveLength(30);
      const ts = turn.updates.map((u: any) => u._meta.airlockTs as number);
      expect(ts.at(-1)! - ts[0]).toBeGreaterThanOrEqual(250); // 29 intervals of 10 ms
      expect(ts.at(-1)! - ts[0]).toBeLessThan(2000);

      const from = h.updates.length;
      const pending = h.ctx.request(acp.methods.agent.session.prompt, { sessionId: id, prompt: [{ type: "text", text: "burst 1000000 rate 2000" }] });
      await sleep(300);
      await h.ctx.notify(acp.methods.agent.session.cancel, { sessionId: id });
      expect((await pending).stopReason).toBe("cancelled");
      await settle();
      const sent = h.updates.length - from;
      expect(sent).toBeGreaterThan(50);
      expect(sent).toBeLessThan(5000);
    });
  });
});
