/**
 * @module tool — what a tool is: a name and description the model reads, an input schema that checks what it
 * sent, what the client is told about the call (kind, title, file locations), and `run`.
 */
import type { ToolCallContent, ToolCallLocation, ToolCallUpdate, ToolKind } from "@agentclientprotocol/sdk";
import { z } from "zod";
import type { Commands } from "./commands.ts";
import type { Workspace } from "./workspace.ts";

/** A failure the model should read and act on: it becomes an `is_error` tool result with this message. */
export class ToolError extends Error {
  override readonly name = "ToolError";
}

/** The user said no to a permission request. */
export class ToolRejected extends ToolError {}

export interface ToolContext {
  ws: Workspace;
  commands: Commands;
  signal: AbortSignal;
  /**
   * Asks the user before a change (when the session's permission mode wants it), showing `content` (e.g. the
   * diff); throws ToolRejected when they say no. Every tool with `needs` calls it once, before acting.
   */
  permit(content?: ToolCallContent[]): Promise<void>;
  /** Sends a `tool_call_update` for this call. */
  update(fields: Omit<ToolCallUpdate, "toolCallId">): Promise<void>;
  /** Records a file's content before the prompt first changes it (for the review's diff). */
  touched(absolutePath: string, before: string | null): void;
  /** With review on: call before running a command; call what it returns afterwards (files it changed). */
  watchCommand?(): Promise<() => Promise<void>>;
}

export interface ToolOutcome {
  /** What the model reads. */
  output: string;
  /** What the client shows (default: the output as text). */
  content?: ToolCallContent[];
  rawOutput?: unknown;
  isError?: boolean;
}

export interface Tool<I = any> {
  name: string;
  description: string;
  input: z.ZodType<I>;
  /** The input's JSON Schema when it comes from elsewhere (an MCP server's tool); otherwise made from `input`. */
  inputSchema?: { type: "object"; [k: string]: unknown };
  kind: ToolKind;
  /** What the permission mode is asked about: file changes or commands. Reads never ask. */
  needs?: "edit" | "execute";
  title(input: I): string;
  locations?(input: I, ws: Workspace): ToolCallLocation[];
  run(input: I, ctx: ToolContext): Promise<ToolOutcome>;
}

/** A tool whose input type is the schema's. */
export const defineTool = <S extends z.ZodType>(tool: Omit<Tool<z.output<S>>, "input"> & { input: S }): Tool<z.output<S>> => tool as unknown as Tool<z.output<S>>;

/** The tool's definition as the Messages API takes it. */
export function apiToolOf(tool: Tool): { name: string; description: string; input_schema: { type: "object"; [k: string]: unknown } } {
  if (tool.inputSchema) return { name: tool.name, description: tool.description, input_schema: { ...tool.inputSchema, type: "object" } };
  const schema = z.toJSONSchema(tool.input, { target: "draft-2020-12", unrepresentable: "any" }) as Record<string, unknown>;
  delete schema.$schema;
  return { name: tool.name, description: tool.description, input_schema: { ...schema, type: "object" } };
}

/** `text` cut to `max` characters: the head and the tail, with what was left out in between. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.3);
  const tail = max - head;
  return `${text.slice(0, head)}\n[… ${text.length - max} characters left out …]\n${text.slice(-tail)}`;
}
