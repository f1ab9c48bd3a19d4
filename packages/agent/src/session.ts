/**
 * @module session — one conversation: its folder, permission mode, the tools the user allowed for good, the
 * messages so far (in the Messages API's own shape, so they go back to the model as they are), and the
 * prompt running now.
 */
import type { McpServer } from "@agentclientprotocol/sdk";
import type { AssistantMessageParam, ContentBlockParam, UserMessageParam } from "@anthropic-ai/sdk/resources/messages";
import type { PermissionMode } from "./config.ts";
import { HistoryFile } from "./history.ts";
import type { McpTools } from "./mcp.ts";

/** A message of the conversation (the API's system messages are not used: the system prompt is separate). */
export type ChatMessage = UserMessageParam | AssistantMessageParam;

export class Session {
  readonly allowAlways = new Set<string>();
  messages: ChatMessage[] = [];
  /** The running prompt's abort, or null between prompts. */
  running: AbortController | null = null;
  /** The MCP servers the client gave (`session/new`, `session/load`); connected on the first prompt. */
  mcpServers: McpServer[] = [];
  /** Their connections and tools, once made (engine.ts). */
  mcp: Promise<McpTools> | null = null;

  private constructor(
    readonly id: string,
    public cwd: string,
    public modeId: PermissionMode,
    private readonly history: HistoryFile,
  ) {}

  /** A new conversation, kept in `stateDir` (when there is one). */
  static create(id: string, cwd: string, modeId: PermissionMode, stateDir: string | null): Session {
    return new Session(id, cwd, modeId, HistoryFile.open(stateDir, id).file);
  }

  /** The saved session `id`, if there is one. */
  static load(id: string, cwd: string, fallbackMode: PermissionMode, stateDir: string | null): Session | null {
    const { file, saved } = HistoryFile.open(stateDir, id);
    if (!saved) return null;
    const session = new Session(id, cwd, saved.modeId ?? fallbackMode, file);
    session.messages = saved.messages;
    for (const name of saved.allowAlways ?? []) session.allowAlways.add(name);
    return session;
  }

  save(): void {
    this.history.save({ version: 1, cwd: this.cwd, modeId: this.modeId, allowAlways: [...this.allowAlways], messages: this.messages });
  }

  /**
   * The conversation as it is now, and a function that puts it back so. A prompt that fails is undone with it
   * (see turn.ts): what the API refused must not go out again with the next prompt.
   */
  checkpoint(): () => void {
    const length = this.messages.length;
    const last = this.messages.at(-1);
    // addUser gives the last message a new content array rather than changing the old one: keeping it is enough.
    const content = last?.content;
    return () => {
      this.messages.splice(length);
      if (last) Object.assign(last, { content });
    };
  }

  /** Adds user content; next to an earlier user message (tool results, a cancelled prompt) it joins it. */
  addUser(blocks: ContentBlockParam[]): void {
    if (!blocks.length) return;
    const last = this.messages.at(-1);
    if (last?.role === "user") {
      const before: ContentBlockParam[] = typeof last.content === "string" ? [{ type: "text", text: last.content }] : last.content;
      last.content = [...before, ...blocks];
    } else this.messages.push({ role: "user", content: blocks });
  }

  addAssistant(blocks: ContentBlockParam[]): void {
    // The API refuses empty text blocks and empty messages.
    const content = blocks.filter((b) => b.type !== "text" || b.text !== "");
    if (content.length) this.messages.push({ role: "assistant", content });
  }
}
