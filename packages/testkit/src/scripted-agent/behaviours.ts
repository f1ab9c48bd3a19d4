/**
 * @module behaviours — what the scripted agent does for a prompt, picked by its first keyword.
 */
import type { AgentContext, ClientCapabilities, SessionUpdate, StopReason } from "@agentclientprotocol/sdk";
import { RequestError } from "@agentclientprotocol/sdk";
import type { Exchange } from "./history.ts";

export interface Turn {
  sessionId: string;
  cwd: string;
  text: string;
  /** Words after the keyword. */
  args: string[];
  rest: string;
  history: Exchange[];
  client: AgentContext;
  capabilities: ClientCapabilities;
  signal: AbortSignal;
  update(update: SessionUpdate): Promise<void>;
  say(text: string): Promise<void>;
  reply: string[];
}

export type Behaviour = (turn: Turn) => Promise<StopReason>;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

const chunks = (text: string, n: number) => {
  const size = Math.ceil(text.length / n);
  return Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
};

const streamText = async (turn: Turn, text: string, pieces = 4) => {
  for (const piece of chunks(text, pieces)) await turn.say(piece);
};

let toolCounter = 0;
const toolId = () => `tool_${++toolCounter}_${Date.now().toString(36)}`;

export const behaviours: Record<string, Behaviour> = {
  async echo(turn) {
    await turn.say(turn.rest || turn.text);
    return "end_turn";
  },

  async recall(turn) {
    if (turn.history.length === 0) await turn.say("This is the first prompt of this session.");
    else await streamText(turn, `Earlier prompts in this session:\n${turn.history.map((h, i) => `${i + 1}. ${h.prompt}`).join("\n")}`);
    return "end_turn";
  },

  async think(turn) {
    const thought = (text: string) => turn.update({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text } });
    await thought("Let me think about what was asked. ");
    await thought("It looks like a request to demonstrate thinking.");
    await streamText(turn, "Here is a first thought-through answer. ", 2);
    await thought("Now a second consideration, after the first answer.");
    await streamText(turn, "And here is the conclusion.", 2);
    return "end_turn";
  },

  async tool(turn) {
    const id = toolId();
    const path = `${turn.cwd}/example.ts`;
    await turn.update({ sessionUpdate: "tool_call", toolCallId: id, title: "Edit example.ts", kind: "edit", status: "pending", locations: [{ path }], rawInput: { path, edit: "rename greeting" } });
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId: id, status: "in_progress" });
    await sleep(50, turn.signal);
    await turn.update({
      sessionUpdate: "tool_call_update",
      toolCallId: id,
      status: "completed",
      content: [{ type: "diff", path, oldText: 'export const greeting = "hello";\n', newText: 'export const greeting = "hello, world";\n' }],
    });
    await turn.say("I updated the greeting in example.ts.");
    return "end_turn";
  },

  async plan(turn) {
    const entries = ["Read the code", "Make the change", "Run the tests"].map((content) => ({ content, priority: "medium" as const, status: "pending" as const }));
    await turn.update({ sessionUpdate: "plan", entries });
    for (let i = 0; i < entries.length; i++) {
      await sleep(30, turn.signal);
      entries[i] = { ...entries[i], status: "completed" as any };
      await turn.update({ sessionUpdate: "plan", entries: entries.map((e) => ({ ...e })) });
    }
    await turn.say("All three steps of the plan are done.");
    return "end_turn";
  },

  async permission(turn) {
    const id = toolId();
    const path = `${turn.cwd}/permitted.txt`;
    const toolCall = { toolCallId: id, title: "Write permitted.txt", kind: "edit" as const, status: "pending" as const, locations: [{ path }], rawInput: { path, content: "approved\n" } };
    await turn.update({ sessionUpdate: "tool_call", ...toolCall });
    const answer = await turn.client.request(
      "session/request_permission",
      {
        sessionId: turn.sessionId,
        toolCall: { ...toolCall, content: [{ type: "diff", path, oldText: null, newText: "approved\n" }] },
        options: [
          { optionId: "allow", name: "Allow", kind: "allow_once" },
          { optionId: "allow_always", name: "Always allow", kind: "allow_always" },
          { optionId: "reject", name: "Reject", kind: "reject_once" },
        ],
      },
      { signal: turn.signal } as any,
    ).catch((err) => {
      if (turn.signal.aborted) return { outcome: { outcome: "cancelled" as const } };
      throw err;
    });
    if (turn.signal.aborted || answer.outcome.outcome === "cancelled") return "cancelled";
    const option = answer.outcome.optionId;
    if (option === "reject") {
      await turn.update({ sessionUpdate: "tool_call_update", toolCallId: id, status: "failed" });
      await turn.say("Permission denied: I did not write the file.");
      return "end_turn";
    }
    if (!turn.capabilities.fs?.writeTextFile) {
      await turn.say("Permission granted, but this client cannot write files (no fs.writeTextFile capability).");
      return "end_turn";
    }
    await turn.client.request("fs/write_text_file", { sessionId: turn.sessionId, path, content: "approved\n" });
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId: id, status: "completed" });
    await turn.say(`Permission granted (${option}): I wrote permitted.txt.`);
    return "end_turn";
  },

  async write(turn) {
    const [rel, ...words] = turn.args;
    if (!rel) return say(turn, "Usage: write <path> <text>");
    if (!turn.capabilities.fs?.writeTextFile) return say(turn, "This client cannot write files.");
    const path = rel.startsWith("/") ? rel : `${turn.cwd}/${rel}`;
    try {
      await turn.client.request("fs/write_text_file", { sessionId: turn.sessionId, path, content: words.join(" ") + "\n" });
      return say(turn, `Wrote ${rel}.`);
    } catch (err) {
      return say(turn, `Could not write ${rel}: ${(err as Error).message}`);
    }
  },

  async read(turn) {
    const [rel] = turn.args;
    if (!rel) return say(turn, "Usage: read <path>");
    if (!turn.capabilities.fs?.readTextFile) return say(turn, "This client cannot read files.");
    const path = rel.startsWith("/") ? rel : `${turn.cwd}/${rel}`;
    try {
      const { content } = await turn.client.request("fs/read_text_file", { sessionId: turn.sessionId, path });
      return say(turn, `Contents of ${rel}:\n${content}`);
    } catch (err) {
      return say(turn, `Could not read ${rel}: ${(err as Error).message}`);
    }
  },

  async run(turn) {
    if (!turn.rest) return say(turn, "Usage: run <command>");
    if (!turn.capabilities.terminal) return say(turn, "This client offers no terminal.");
    const id = toolId();
    const { terminalId } = await turn.client.request("terminal/create", { sessionId: turn.sessionId, command: "sh", args: ["-c", turn.rest], cwd: turn.cwd });
    await turn.update({ sessionUpdate: "tool_call", toolCallId: id, title: `Run ${turn.rest}`, kind: "execute", status: "in_progress", rawInput: { command: turn.rest }, content: [{ type: "terminal", terminalId }] });
    const onAbort = () => void turn.client.request("terminal/kill", { sessionId: turn.sessionId, terminalId }).catch(() => {});
    turn.signal.addEventListener("abort", onAbort, { once: true });
    const exit = await turn.client.request("terminal/wait_for_exit", { sessionId: turn.sessionId, terminalId });
    turn.signal.removeEventListener("abort", onAbort);
    const { output } = await turn.client.request("terminal/output", { sessionId: turn.sessionId, terminalId });
    await turn.client.request("terminal/release", { sessionId: turn.sessionId, terminalId });
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId: id, status: exit.exitCode === 0 ? "completed" : "failed" });
    if (turn.signal.aborted) return "cancelled";
    await turn.say(`\`${turn.rest}\` exited with ${exit.exitCode ?? exit.signal}:\n\`\`\`\n${output}\`\`\``);
    return "end_turn";
  },

  async slow(turn) {
    const seconds = Number(turn.args[0]) || 30;
    const until = Date.now() + seconds * 1000;
    let i = 0;
    while (Date.now() < until && !turn.signal.aborted) {
      await turn.say(`chunk ${++i} `);
      await sleep(100, turn.signal);
    }
    return turn.signal.aborted ? "cancelled" : "end_turn";
  },

  async hang(turn) {
    await sleep(24 * 3600 * 1000, turn.signal);
    return "cancelled";
  },

  async crash(turn) {
    await turn.say("About to crash.");
    setTimeout(() => process.exit(3), 50);
    await sleep(10_000, turn.signal);
    return "end_turn";
  },

  async error() {
    throw new RequestError(-32603, "scripted failure");
  },
};

async function say(turn: Turn, text: string): Promise<StopReason> {
  await turn.say(text);
  return "end_turn";
}

export const intro =
  "Hello from the scripted demo agent. I need no LLM: words in your prompt pick what I do. " +
  "Try `tool`, `think`, `plan`, `permission`, `write notes.md some text`, `read notes.md`, `run ls -la`, " +
  "`slow 5` (then cancel), `recall` or `echo something`.";
