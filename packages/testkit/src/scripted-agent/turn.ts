/**
 * @module turn — what a behaviour gets to work with for one `session/prompt`, and small helpers for pacing.
 */
import type { AgentContext, ClientCapabilities, McpServer, SessionUpdate, StopReason } from "@agentclientprotocol/sdk";
import type { Exchange } from "./history.ts";

export interface Turn {
  sessionId: string;
  /** The session's working directory (absolute, from session/new or session/load). */
  cwd: string;
  /** The session's MCP servers, as `session/new` (or `session/load`) gave them. */
  mcpServers: McpServer[];
  /** The whole prompt text. */
  text: string;
  /** The text after the keyword, trimmed, and split on whitespace. */
  rest: string;
  args: string[];
  /** Earlier exchanges of this session, oldest first. */
  history: readonly Exchange[];
  /** To call the client (fs, terminal, permission, elicitation). */
  client: AgentContext;
  capabilities: ClientCapabilities;
  /** Aborted by `session/cancel`. */
  signal: AbortSignal;
  /** Sends a `session/update`. */
  update(update: SessionUpdate): Promise<void>;
  /** Sends one `agent_message_chunk` and keeps its text for the history. */
  say(text: string): Promise<void>;
}

export type Behaviour = (turn: Turn) => Promise<StopReason>;

/** Resolves after `ms`, or as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Says `text` in up to `pieces` chunks cut between words, the way a model streams. */
export async function stream(turn: Turn, text: string, pieces: number): Promise<void> {
  const words = text.split(/(?<=\s)/);
  const perChunk = Math.ceil(words.length / pieces);
  for (let i = 0; i < words.length; i += perChunk) await turn.say(words.slice(i, i + perChunk).join(""));
}

/** Says `text` and ends the turn normally: for short answers and "cannot do that here" messages. */
export async function reply(turn: Turn, text: string): Promise<StopReason> {
  await turn.say(text);
  return "end_turn";
}

/** Request options that stop waiting for the client once the turn is cancelled. */
export function cancellable(turn: Turn) {
  return { cancellationSignal: turn.signal, stopWaitingOnCancel: true };
}

let toolCalls = 0;
export function newToolCallId(): string {
  return `call_${Date.now().toString(36)}_${++toolCalls}`;
}

/** A message for an error thrown by a client call. */
export { describeRpcError as describe } from "@airlock/protocol/rpc-error";

/** `text` as a Markdown code block, with a fence no line of it can close early. */
export function fenced(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  return `${fence}\n${text}${text.endsWith("\n") || text === "" ? "" : "\n"}${fence}`;
}
