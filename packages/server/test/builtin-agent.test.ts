/**
 * Airlock's built-in agent (packages/agent) in real local sandboxes, driven through the HTTP/SSE API, calling
 * the test kit's scripted Anthropic server through the LLM gateway: streaming, tools and their permissions,
 * cancel, limits, LLM errors, project context, self-review, memory across turns and across an idle stop.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { type FakeAnthropic, type RecordedRequest, type Reply, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { SseReader, type TestServer, hasStatus, pidsMatching, removeDir, startServer, textOf, turnEnded } from "./harness.ts";

const realKey = "sk-ant-real-key-for-the-built-in-agent";
let llm: FakeAnthropic;
let server: TestServer;

beforeAll(async () => {
  llm = await startFakeAnthropic({ apiKey: realKey });
  server = await startServer({ ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: realKey });
});
afterAll(async () => {
  await server?.stop();
  await llm?.close();
  if (server) removeDir(server.dataDir);
});

const isReview = (r: RecordedRequest) => JSON.stringify(r.body?.system ?? "").includes("You review changes");
const isMain = (r: RecordedRequest) => Array.isArray(r.body?.tools) && r.body.tools.length > 0;
const lastMessage = (r: RecordedRequest) => r.body.messages.at(-1);
const toolResults = (r: RecordedRequest): any[] => (Array.isArray(lastMessage(r).content) ? lastMessage(r).content.filter((b: any) => b.type === "tool_result") : []);
const resultText = (b: any) => (typeof b.content === "string" ? b.content : JSON.stringify(b.content));
/** Requests made since `from` (an index into llm.requests), main loop only. */
const mainSince = (from: number) => llm.requests.slice(from).filter((r) => r.method === "POST" && isMain(r));

/** The main loop answers `first` to a prompt, and `then(request)` after tool results. */
function script(first: Reply | ((r: RecordedRequest) => Reply), then: Reply | ((r: RecordedRequest) => Reply) = { text: "Done." }) {
  llm.respond((r) => {
    if (isReview(r)) return { text: "APPROVED" };
    const pick = toolResults(r).length ? then : first;
    return typeof pick === "function" ? pick(r) : pick;
  });
}

async function session(body: Record<string, unknown> = {}) {
  const res = await server.api("POST", "/v1/sessions", { agent: "airlock", ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const sse = new SseReader(`${server.url}/v1/sessions/${res.body.id}/events`);
  await sse.waitFor(hasStatus("ready"), 60_000, "ready");
  return { id: res.body.id as string, sse };
}

async function prompt(id: string, text: string): Promise<string> {
  const res = await server.api("POST", `/v1/sessions/${id}/prompt`, { text });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.turnId;
}

const updates = (events: AirlockEvent[], turnId: string, kinds: string[]) =>
  events.filter((e) => e.type === "update" && e.turnId === turnId && kinds.includes((e.data as any).sessionUpdate)).map((e) => e.data as any);
const ended = (events: AirlockEvent[], turnId: string) => events.find((e) => e.type === "turn.ended" && e.turnId === turnId)!.data as any;
const file = async (id: string, path: string) => (await server.api("GET", `/v1/sessions/${id}/files?path=${encodeURIComponent(path)}`)).body?.content;

async function answer(id: string, sse: SseReader, nth: number, kind: "allow_once" | "allow_always" | "reject_once") {
  const events = await sse.waitFor((evs) => evs.filter((e) => e.type === "interaction.requested").length >= nth, 30_000, `permission request #${nth}`);
  const request = events.filter((e) => e.type === "interaction.requested")[nth - 1].data as any;
  const option = request.options.find((o: any) => o.kind === kind);
  expect((await server.api("POST", `/v1/sessions/${id}/interactions/${request.interactionId}`, { optionId: option.optionId })).status).toBe(200);
  return request;
}

describe("streaming and context", () => {
  it("forwards thinking and text deltas as they come, in order, and sends the project context with cache marks", async () => {
    const { id, sse } = await session({ workspace: { files: { "README.md": "# Demo project\nIt greets people.\n", "package.json": '{"name":"demo-greeter","scripts":{"test":"node test.js"}}', "src/index.js": "export const hi = 1;\n" } } });
    const from = llm.requests.length;
    script({ content: [{ type: "thinking", thinking: "The user wants a greeting; I will answer briefly." }, { type: "text", text: "Hello there, this is the built-in agent speaking." }], pieces: 5, delayMs: 120 });
    const t = await prompt(id, "Say hello");
    // The first text chunk is shown while the model is still writing.
    await sse.waitFor((evs) => updates(evs, t, ["agent_message_chunk"]).length >= 1, 20_000, "first text chunk");
    expect(sse.events.some((e) => e.type === "turn.ended" && e.turnId === t)).toBe(false);
    const events = await sse.waitFor(turnEnded(t), 30_000, "turn end");
    expect(ended(events, t).stopReason).toBe("end_turn");

    const chunks = updates(events, t, ["agent_thought_chunk", "agent_message_chunk"]);
    const kinds = chunks.map((u) => u.sessionUpdate);
    expect(kinds.lastIndexOf("agent_thought_chunk")).toBeLessThan(kinds.indexOf("agent_message_chunk"));
    expect(chunks.filter((u) => u.sessionUpdate === "agent_thought_chunk").length).toBe(5);
    expect(chunks.filter((u) => u.sessionUpdate === "agent_message_chunk").length).toBe(5);
    expect(chunks.filter((u) => u.sessionUpdate === "agent_thought_chunk").map((u) => u.content.text).join("")).toBe("The user wants a greeting; I will answer briefly.");
    expect(textOf(events, t)).toBe("Hello there, this is the built-in agent speaking.");

    const request = mainSince(from)[0];
    expect(request.body.model).toBe("claude-sonnet-5-5");
    expect(request.body.stream).toBe(true);
    // Through the gateway: the upstream saw the real key, which the agent never had.
    expect(request.headers["x-api-key"]).toBe(realKey);
    expect(request.body.tools.map((t: any) => t.name).sort()).toEqual(["edit_file", "execute_code", "list_files", "read_file", "run_command", "search", "write_file"]);
    const [instructions, context] = request.body.system;
    expect(instructions.cache_control).toEqual({ type: "ephemeral" });
    expect(context.cache_control).toEqual({ type: "ephemeral" });
    expect(context.text).toContain("README.md");
    expect(context.text).toContain("# Demo project");
    expect(context.text).toContain('"name":"demo-greeter"');
    expect(context.text).toMatch(/src\/\n\s+index\.js/);
    expect(lastMessage(request).content.at(-1).cache_control).toEqual({ type: "ephemeral" });
    sse.close();
  });

  it("refreshes the project context after the tree changed, and keeps it byte for byte when it did not", async () => {
    const { id, sse } = await session({ permissionMode: "auto", workspace: { files: { "a.txt": "a\n" } } });
    script({ toolUse: [{ name: "write_file", input: { path: "made-in-turn-one.txt", content: "new\n" } }] });
    const from = llm.requests.length;
    const t1 = await prompt(id, "make a file");
    await sse.waitFor(turnEnded(t1), 30_000, "turn 1");
    script({ text: "Fine." });
    const t2 = await prompt(id, "hello");
    await sse.waitFor(turnEnded(t2), 30_000, "turn 2");
    const t3 = await prompt(id, "hello again");
    await sse.waitFor(turnEnded(t3), 30_000, "turn 3");
    const [first, , second, third] = mainSince(from);
    expect(first.body.system[1].text).not.toContain("made-in-turn-one.txt");
    expect(second.body.system[1].text).toContain("made-in-turn-one.txt");
    expect(third.body.system[1].text).toBe(second.body.system[1].text);
    // Within a turn the context stays as it was (the prompt cache keeps it).
    expect(mainSince(from)[1].body.system[1].text).toBe(first.body.system[1].text);
    sse.close();
  });
});

describe("file tools and permissions", () => {
  it("asks before write_file: allowed writes the file with its diff, rejected writes nothing, allow_always is remembered", async () => {
    const { id, sse } = await session({ workspace: { files: { "keep.txt": "old\n" } } });
    let target = "hello.txt";
    script(() => ({ toolUse: [{ name: "write_file", input: { path: target, content: `content of ${target}\n` } }] }));

    const from = llm.requests.length;
    const t1 = await prompt(id, "write hello.txt");
    const request = await answer(id, sse, 1, "allow_once");
    expect(request.toolCall.kind).toBe("edit");
    expect(request.toolCall.content[0]).toMatchObject({ type: "diff", path: "/workspace/hello.txt", oldText: null, newText: "content of hello.txt\n" });
    let events = await sse.waitFor(turnEnded(t1), 30_000, "turn 1");
    expect(await file(id, "hello.txt")).toBe("content of hello.txt\n");
    const call = updates(events, t1, ["tool_call"])[0];
    expect(call).toMatchObject({ kind: "edit", title: "Write hello.txt", rawInput: { path: "hello.txt", content: "content of hello.txt\n" }, locations: [{ path: "/workspace/hello.txt" }] });
    const statuses = updates(events, t1, ["tool_call_update"]).filter((u) => u.toolCallId === call.toolCallId).map((u) => u.status);
    expect(statuses).toEqual(["in_progress", "completed"]);
    expect(events.some((e) => e.type === "file.changed" && (e.data as any).path === "hello.txt")).toBe(true);
    expect(toolResults(mainSince(from).at(-1)!)[0].is_error).toBeUndefined();

    target = "rejected.txt";
    const t2 = await prompt(id, "write rejected.txt");
    await answer(id, sse, 2, "reject_once");
    events = await sse.waitFor(turnEnded(t2), 30_000, "turn 2");
    expect((await server.api("GET", `/v1/sessions/${id}/files?path=rejected.txt`)).status).toBe(404);
    const rejected = toolResults(mainSince(from).at(-1)!)[0];
    expect(rejected.is_error).toBe(true);
    expect(resultText(rejected)).toContain("rejected");
    expect(updates(events, t2, ["tool_call_update"]).at(-1).status).toBe("failed");

    target = "always-1.txt";
    const t3 = await prompt(id, "write always-1.txt");
    await answer(id, sse, 3, "allow_always");
    await sse.waitFor(turnEnded(t3), 30_000, "turn 3");
    target = "always-2.txt";
    const t4 = await prompt(id, "write always-2.txt");
    events = await sse.waitFor(turnEnded(t4), 30_000, "turn 4");
    expect(events.filter((e) => e.type === "interaction.requested").length).toBe(3);
    expect(await file(id, "always-2.txt")).toBe("content of always-2.txt\n");
    sse.close();
  });

  it("edit_file refuses a missing or ambiguous match with a message the model can act on, and changes nothing then", async () => {
    const { id, sse } = await session({ permissionMode: "auto", workspace: { files: { "conf.py": "x = 1\nx = 1\ny = 2\n" } } });
    script({
      toolUse: [
        { name: "edit_file", input: { path: "conf.py", old_string: "z = 9", new_string: "z = 0" } },
        { name: "edit_file", input: { path: "conf.py", old_string: "x = 1", new_string: "x = 5" } },
        { name: "edit_file", input: { path: "conf.py", old_string: "y  =  2", new_string: "y = 0" } },
      ],
    });
    const from = llm.requests.length;
    const t = await prompt(id, "edit conf.py");
    const events = await sse.waitFor(turnEnded(t), 30_000, "turn");
    const [missing, ambiguous, loose] = toolResults(mainSince(from).at(-1)!);
    expect(missing.is_error).toBe(true);
    expect(resultText(missing)).toContain("old_string was not found in conf.py");
    expect(ambiguous.is_error).toBe(true);
    expect(resultText(ambiguous)).toContain("occurs 2 times in conf.py (at lines 1, 2)");
    expect(resultText(ambiguous)).toContain("replace_all");
    expect(resultText(loose)).toContain("line 3");
    expect(await file(id, "conf.py")).toBe("x = 1\nx = 1\ny = 2\n");
    expect(updates(events, t, ["tool_call_update"]).filter((u) => u.status === "failed").length).toBe(3);

    script({ toolUse: [{ name: "edit_file", input: { path: "conf.py", old_string: "x = 1", new_string: "x = 5", replace_all: true } }] });
    const t2 = await prompt(id, "edit all");
    const after = await sse.waitFor(turnEnded(t2), 30_000, "turn 2");
    expect(await file(id, "conf.py")).toBe("x = 5\nx = 5\ny = 2\n");
    const diff = updates(after, t2, ["tool_call_update"]).flatMap((u) => u.content ?? []).find((c: any) => c.type === "diff");
    expect(diff).toMatchObject({ path: "/workspace/conf.py", oldText: "x = 1\nx = 1\ny = 2\n", newText: "x = 5\nx = 5\ny = 2\n" });
    sse.close();
  });

  it("refuses paths outside the workspace", async () => {
    const { id, sse } = await session({ permissionMode: "auto" });
    script({ toolUse: [{ name: "read_file", input: { path: "../../etc/passwd" } }, { name: "write_file", input: { path: "/tmp/outside.txt", content: "x" } }] });
    const from = llm.requests.length;
    const t = await prompt(id, "escape");
    await sse.waitFor(turnEnded(t), 30_000, "turn");
    const results = toolResults(mainSince(from).at(-1)!);
    expect(results.map((r) => r.is_error)).toEqual([true, true]);
    expect(results.map(resultText).join(" ")).toContain("outside the workspace");
    sse.close();
  });
});

describe("commands", () => {
  it("streams run_command's output while it runs, reports exit codes, and kills a command at its timeout", async () => {
    const { id, sse } = await session({ permissionMode: "auto" });
    let step = 0;
    script(() => {
      step++;
      if (step === 1) return { toolUse: [{ name: "run_command", input: { command: "for i in 1 2 3; do echo line$i; sleep 0.3; done" } }] };
      if (step === 2) return { toolUse: [{ name: "run_command", input: { command: "echo failing >&2; exit 3" } }] };
      return { toolUse: [{ name: "run_command", input: { command: "sleep 30", timeout_sec: 1 } }] };
    });
    const from = llm.requests.length;
    const t1 = await prompt(id, "count");
    let events = await sse.waitFor(turnEnded(t1), 30_000, "turn 1");
    const call = updates(events, t1, ["tool_call"])[0];
    expect(call).toMatchObject({ kind: "execute", rawInput: { command: "for i in 1 2 3; do echo line$i; sleep 0.3; done" } });
    const terminal = updates(events, t1, ["tool_call_update"]).flatMap((u) => u.content ?? []).find((c: any) => c.type === "terminal");
    expect(terminal?.terminalId).toBeTruthy();
    const output = events.filter((e) => e.type === "terminal.output" && e.turnId === t1);
    const completedAt = events.find((e) => e.type === "update" && (e.data as any).toolCallId === call.toolCallId && (e.data as any).status === "completed")!.seq;
    expect(output.length).toBeGreaterThan(0);
    expect(output[0].seq).toBeLessThan(completedAt);
    expect(resultText(toolResults(mainSince(from).at(-1)!)[0])).toMatch(/line1\nline2\nline3\n\[exit code 0\]/);

    const t2 = await prompt(id, "fail");
    await sse.waitFor(turnEnded(t2), 30_000, "turn 2");
    const failed = toolResults(mainSince(from).at(-1)!)[0];
    expect(failed.is_error).toBe(true);
    expect(resultText(failed)).toContain("failing");
    expect(resultText(failed)).toContain("[exit code 3]");

    const t3 = await prompt(id, "sleep");
    events = await sse.waitFor(turnEnded(t3), 30_000, "turn 3");
    const timedOut = toolResults(mainSince(from).at(-1)!)[0];
    expect(timedOut.is_error).toBe(true);
    expect(resultText(timedOut)).toContain("timed out after 1 s");
    expect(ended(events, t3).stopReason).toBe("end_turn");
    sse.close();
  });

  it("runs independent tool calls of one response at the same time", async () => {
    const { id, sse } = await session({ permissionMode: "auto" });
    // Each waits for the other's mark: run one after the other, the first would give up after 10 s.
    const waitFor = (mine: string, theirs: string) => `touch ${mine}; i=0; while [ ! -f ${theirs} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; test -f ${theirs} && echo saw-${theirs}`;
    script({ toolUse: [{ name: "run_command", input: { command: waitFor("a.mark", "b.mark") } }, { name: "run_command", input: { command: waitFor("b.mark", "a.mark") } }] });
    const from = llm.requests.length;
    const t = await prompt(id, "both");
    await sse.waitFor(turnEnded(t), 40_000, "turn");
    const [a, b] = toolResults(mainSince(from).at(-1)!);
    expect(resultText(a)).toContain("saw-b.mark");
    expect(resultText(b)).toContain("saw-a.mark");
    expect([a.is_error, b.is_error]).toEqual([undefined, undefined]);
    sse.close();
  });

  it("execute_code runs a JavaScript snippet", async () => {
    const { id, sse } = await session({ permissionMode: "auto" });
    script({ toolUse: [{ name: "execute_code", input: { language: "javascript", code: "console.log(6 * 7, require('node:fs').existsSync('seeded.txt'))" } }] });
    const from = llm.requests.length;
    const t = await prompt(id, "compute");
    await sse.waitFor(turnEnded(t), 30_000, "turn");
    expect(resultText(toolResults(mainSince(from).at(-1)!)[0])).toContain("42 false");
    sse.close();
  });
});

describe("cancel", () => {
  it("cancels mid-stream: the turn ends cancelled at once, the partial answer stays in memory, the next prompt works", async () => {
    const { id, sse } = await session();
    script({ text: "One two three four five six seven eight nine ten eleven twelve.", pieces: 12, delayMs: 250 });
    const t1 = await prompt(id, "count slowly");
    await sse.waitFor((evs) => updates(evs, t1, ["agent_message_chunk"]).length >= 2, 20_000, "some chunks");
    expect((await server.api("POST", `/v1/sessions/${id}/cancel`)).status).toBe(202);
    let events = await sse.waitFor(turnEnded(t1), 10_000, "cancelled turn");
    expect(ended(events, t1).stopReason).toBe("cancelled");
    const shown = textOf(events, t1);
    expect(shown.length).toBeLessThan("One two three four five six seven eight nine ten eleven twelve.".length);

    script({ text: "Back again." });
    const from = llm.requests.length;
    const t2 = await prompt(id, "go on");
    events = await sse.waitFor(turnEnded(t2), 30_000, "next turn");
    expect(textOf(events, t2)).toBe("Back again.");
    const messages = JSON.stringify(mainSince(from)[0].body.messages);
    expect(messages).toContain("count slowly");
    expect(messages).toContain(shown.slice(0, 8));
    sse.close();
  });

  it("cancels mid-command: the command is killed and the turn ends cancelled", async () => {
    const { id, sse } = await session({ permissionMode: "auto" });
    script({ toolUse: [{ name: "run_command", input: { command: "echo started; sleep 47.5" } }] });
    const t = await prompt(id, "sleep long");
    await sse.waitFor((evs) => evs.some((e) => e.type === "terminal.output" && e.turnId === t), 20_000, "command output");
    expect(pidsMatching("sleep 47.5").length).toBeGreaterThan(0);
    expect((await server.api("POST", `/v1/sessions/${id}/cancel`)).status).toBe(202);
    const events = await sse.waitFor(turnEnded(t), 10_000, "cancelled turn");
    expect(ended(events, t).stopReason).toBe("cancelled");
    expect(updates(events, t, ["tool_call_update"]).at(-1).status).toBe("failed");
    const until = Date.now() + 5000;
    while (pidsMatching("sleep 47.5").length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(pidsMatching("sleep 47.5")).toEqual([]);
    sse.close();
  });
});

describe("self-review", () => {
  const reviewSteps = (verdicts: string[]) => {
    const reviews: RecordedRequest[] = [];
    let edits = 0;
    llm.respond((r) => {
      if (isReview(r)) {
        reviews.push(r);
        return { text: verdicts[Math.min(reviews.length, verdicts.length) - 1] };
      }
      if (toolResults(r).length) return { text: "Done." };
      const fixing = JSON.stringify(lastMessage(r)).includes("[Self-review]");
      if (!fixing) return { toolUse: [{ name: "write_file", input: { path: "sum.js", content: "export const sum = (a, b) => a - b;\n" } }] };
      edits++;
      return { toolUse: [{ name: "edit_file", input: { path: "sum.js", old_string: edits === 1 ? "a - b" : "a + b", new_string: edits === 1 ? "a + b" : "b + a" } }] };
    });
    return reviews;
  };

  it("reviews a turn that changed files: issues start a fix pass, then APPROVED ends it; all of it streams, labelled", async () => {
    const { id, sse } = await session({ permissionMode: "auto", review: true });
    expect((await server.api("GET", `/v1/sessions/${id}`)).body.review).toBe(true);
    const reviews = reviewSteps(["1. sum.js: `sum` subtracts; it must add (a + b).", "APPROVED"]);
    const from = llm.requests.length;
    const t = await prompt(id, "write a sum function in sum.js");
    const events = await sse.waitFor(turnEnded(t), 30_000, "turn");
    expect(ended(events, t).stopReason).toBe("end_turn");
    expect(reviews.length).toBe(2);
    expect(reviews[0].body.model).toBe("claude-haiku-5-5");
    const firstReview = JSON.stringify(reviews[0].body.messages);
    expect(firstReview).toContain("write a sum function in sum.js");
    expect(firstReview).toContain("+export const sum = (a, b) => a - b;");
    expect(JSON.stringify(reviews[1].body.messages)).toContain("+export const sum = (a, b) => a + b;");
    const fix = mainSince(from).find((r) => JSON.stringify(lastMessage(r)).includes("[Self-review]"))!;
    expect(JSON.stringify(lastMessage(fix))).toContain("sum.js: `sum` subtracts");
    expect(await file(id, "sum.js")).toBe("export const sum = (a, b) => a + b;\n");

    const phases = updates(events, t, ["agent_message_chunk"]).filter((u) => u._meta?.airlock).map((u) => `${u._meta.airlock.phase}${u._meta.airlock.pass}`);
    expect([...new Set(phases)]).toEqual(["review1", "fix1", "review2"]);
    const text = textOf(events, t);
    expect(text).toContain("**Self-review 1**");
    expect(text).toContain("sum.js: `sum` subtracts");
    expect(text).toContain("**Fix pass 1 of 2**");
    expect(text.trimEnd().endsWith("APPROVED")).toBe(true);
    sse.close();
  });

  it("stops after the allowed fix passes, and skips the review when nothing changed", async () => {
    const { id, sse } = await session({ permissionMode: "auto", review: true });
    const reviews = reviewSteps(["1. still wrong"]);
    const t = await prompt(id, "write sum.js");
    let events = await sse.waitFor(turnEnded(t), 30_000, "turn");
    expect(reviews.length).toBe(3);
    expect(textOf(events, t)).toContain("still found issues after 2 fix passes");
    expect(ended(events, t).stopReason).toBe("end_turn");

    const from = llm.requests.length;
    script({ text: "Just talking." });
    const t2 = await prompt(id, "how are you?");
    events = await sse.waitFor(turnEnded(t2), 30_000, "talk");
    expect(llm.requests.slice(from).filter(isReview)).toEqual([]);
    expect(textOf(events, t2)).toBe("Just talking.");
    sse.close();
  });

  it("reviews files a command changed too: a created file against nothing, a changed one against git, others as they are now", async () => {
    const { id, sse } = await session({ permissionMode: "auto", review: true, workspace: { files: { "keep.txt": "same\n", "config.py": "VALUE = 1\n", "notes.txt": "draft\n" } } });
    const reviews: RecordedRequest[] = [];
    let command = "";
    llm.respond((r) => {
      if (isReview(r)) return reviews.push(r), { text: "APPROVED" };
      return toolResults(r).length ? { text: "Done." } : { toolUse: [{ name: "run_command", input: { command } }] };
    });
    // config.py is committed; notes.txt stays untracked, so git cannot say what it was.
    command = "git init -q && git add config.py keep.txt && git -c user.name=t -c user.email=t@example.com commit -qm base && git rev-parse HEAD";
    const t1 = await prompt(id, "make this a repository");
    const first = await sse.waitFor(turnEnded(t1), 30_000, "turn 1");
    expect(JSON.stringify(first)).toMatch(/[0-9a-f]{40}/); // git ran in the sandbox
    expect(reviews.length).toBe(0); // nothing in the tree changed

    command = "printf 'VALUE = 42\\n' > config.py && printf 'NEW = 1\\n' > generated.py && printf 'final\\n' > notes.txt";
    const t2 = await prompt(id, "set the value and generate the constants file");
    await sse.waitFor(turnEnded(t2), 30_000, "turn 2");
    expect(reviews.length).toBe(1);
    const seen: string = reviews[0].body.messages[0].content[0].text;
    expect(seen).toContain("--- a/config.py\n+++ b/config.py");
    expect(seen).toContain("-VALUE = 1\n+VALUE = 42");
    expect(seen).toContain("--- /dev/null\n+++ b/generated.py");
    expect(seen).toContain("+NEW = 1");
    expect(seen).toContain("notes.txt: changed by a command (its earlier content was not kept); it is now:\nfinal");
    expect(seen).not.toContain("keep.txt");
    sse.close();
  });

  it("is refused for agents that cannot review", async () => {
    const res = await server.api("POST", "/v1/sessions", { agent: "scripted", review: true });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("cannot review");
  });
});

describe("memory, limits and LLM errors", () => {
  it("remembers earlier turns, and after an idle stop comes back with them (session/load)", async () => {
    const { id, sse } = await session({ idleTimeoutSec: 1 });
    script({ text: "Noted: the number is 4217." });
    const t1 = await prompt(id, "Remember the number 4217");
    await sse.waitFor(turnEnded(t1), 30_000, "turn 1");
    script({ text: "It was 4217." });
    const from = llm.requests.length;
    const t2 = await prompt(id, "Which number?");
    await sse.waitFor(turnEnded(t2), 30_000, "turn 2");
    expect(JSON.stringify(mainSince(from)[0].body.messages)).toContain("Noted: the number is 4217.");

    await sse.waitFor(hasStatus("stopped"), 20_000, "idle stop");
    const before = llm.requests.length;
    const t3 = await prompt(id, "And now?");
    const events = await sse.waitFor(turnEnded(t3), 60_000, "turn after resume");
    expect(events.some((e) => e.type === "error" && (e.data as any).code === "context_lost")).toBe(false);
    const messages = mainSince(before)[0].body.messages;
    expect(messages.map((m: any) => m.role)).toEqual(["user", "assistant", "user", "assistant", "user"]);
    expect(JSON.stringify(messages)).toContain("Remember the number 4217");
    expect(JSON.stringify(messages)).toContain("It was 4217.");
    sse.close();
  });

  it("retries a 429 and surfaces a 400 clearly", async () => {
    const { id, sse } = await session();
    llm.reply({ error: { status: 429, type: "rate_limit_error", message: "slow down", retryAfterSec: 0 } }, { text: "After the retry." });
    let from = llm.requests.length;
    const t1 = await prompt(id, "hi");
    let events = await sse.waitFor(turnEnded(t1), 30_000, "turn 1");
    expect(ended(events, t1).stopReason).toBe("end_turn");
    expect(textOf(events, t1)).toBe("After the retry.");
    expect(mainSince(from).length).toBe(2);
    // The wait is shown: a notice (Airlock's driver takes them) with the reason.
    const notice = updates(events, t1, ["notice"])[0];
    expect(notice).toMatchObject({ severity: "warning", title: expect.stringContaining("Retrying the LLM call") });
    expect(notice.description).toContain("429 rate_limit_error");

    llm.reply({ error: { status: 400, type: "invalid_request_error", message: "messages: text content blocks must be non-empty" } });
    from = llm.requests.length;
    const t2 = await prompt(id, "again");
    events = await sse.waitFor(turnEnded(t2), 30_000, "turn 2");
    expect(ended(events, t2).stopReason).toBe("error");
    expect(ended(events, t2).error).toContain("400 invalid_request_error");
    expect(ended(events, t2).error).toContain("text content blocks must be non-empty");
    expect(mainSince(from).length).toBe(1);
    sse.close();
  });

  it("forgets a failed prompt: after a 400 and after a budget refusal the next prompt works, alternating, also after an idle stop", async () => {
    const { id, sse } = await session({ idleTimeoutSec: 2, budgetUsd: 0.000001 });
    const roles = (r: RecordedRequest) => r.body.messages.map((m: any) => m.role);
    const sent = (r: RecordedRequest) => JSON.stringify(r.body.messages);
    script({ text: "First answer." });
    const t1 = await prompt(id, "first");
    await sse.waitFor(turnEnded(t1), 30_000, "turn 1");
    // That answer cost more than the budget: the gateway refuses the next call (a 400), the turn fails.
    let from = llm.requests.length;
    const t2 = await prompt(id, "REFUSED-BY-BUDGET");
    let events = await sse.waitFor(turnEnded(t2), 30_000, "turn 2");
    expect(ended(events, t2).error).toMatch(/budget .* is spent/);
    expect(mainSince(from)).toHaveLength(0);
    expect((await server.api("PATCH", `/v1/sessions/${id}`, { budgetUsd: null })).status).toBe(200);

    // A 400 for the content of a request (after a tool ran and part of an answer streamed).
    llm.reply({ text: "Looking first.", toolUse: [{ name: "list_files", input: {} }] }, { error: { status: 400, type: "invalid_request_error", message: "REFUSED-CONTENT is not allowed" } });
    const t3 = await prompt(id, "REFUSED-CONTENT");
    events = await sse.waitFor(turnEnded(t3), 30_000, "turn 3");
    expect(ended(events, t3).error).toContain("REFUSED-CONTENT is not allowed");

    script({ text: "Back to work." });
    from = llm.requests.length;
    const t4 = await prompt(id, "go on");
    events = await sse.waitFor(turnEnded(t4), 30_000, "turn 4");
    expect(ended(events, t4).stopReason).toBe("end_turn");
    let next = mainSince(from)[0];
    expect(roles(next)).toEqual(["user", "assistant", "user"]);
    for (const gone of ["REFUSED", "Looking first.", "tool_use"]) expect(sent(next)).not.toContain(gone);

    // One more failure as the last turn, then an idle stop: the saved history holds none of it.
    llm.reply({ error: { status: 400, type: "invalid_request_error", message: "refused before the stop" } });
    const t5 = await prompt(id, "REFUSED-LAST");
    await sse.waitFor(turnEnded(t5), 30_000, "turn 5");
    await sse.waitFor(hasStatus("stopped"), 30_000, "idle stop");
    script({ text: "Resumed." });
    from = llm.requests.length;
    const t6 = await prompt(id, "after the stop");
    events = await sse.waitFor(turnEnded(t6), 60_000, "turn after resume");
    expect(ended(events, t6).stopReason).toBe("end_turn");
    next = mainSince(from)[0];
    expect(roles(next)).toEqual(["user", "assistant", "user", "assistant", "user"]);
    expect(sent(next)).not.toContain("REFUSED");
    sse.close();
  });

  it("ends a prompt at its request limit (max_turn_requests) and on the model's max_tokens; uses the session's model", async () => {
    const { id, sse } = await session({ permissionMode: "auto", model: "claude-opus-5-5", env: { AIRLOCK_AGENT_MAX_TURN_REQUESTS: "2" } });
    script({ toolUse: [{ name: "list_files", input: {} }] }, { toolUse: [{ name: "list_files", input: {} }] });
    const from = llm.requests.length;
    const t1 = await prompt(id, "loop forever");
    let events = await sse.waitFor(turnEnded(t1), 30_000, "turn 1");
    expect(ended(events, t1).stopReason).toBe("max_turn_requests");
    expect(mainSince(from).map((r) => r.body.model)).toEqual(["claude-opus-5-5", "claude-opus-5-5"]);

    llm.reply({ text: "This answer was cut", stopReason: "max_tokens" });
    const t2 = await prompt(id, "write a lot");
    events = await sse.waitFor(turnEnded(t2), 30_000, "turn 2");
    expect(ended(events, t2).stopReason).toBe("max_tokens");
    sse.close();
  });
});
