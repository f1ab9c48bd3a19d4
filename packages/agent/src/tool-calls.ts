/**
 * @module tool-calls — one tool_use of the model carried out: its input checked, the client told
 * (`tool_call`, then `tool_call_update`s: in_progress, live output, completed or failed, diffs), permission
 * asked where the session's mode wants it, and the tool_result the model reads next.
 */
import * as acp from "@agentclientprotocol/sdk";
import type { AgentContext, PermissionOption, SessionUpdate, ToolCallContent, ToolCallUpdate, ToolKind } from "@agentclientprotocol/sdk";
import type { ToolResultBlockParam, ToolUseBlockParam } from "@anthropic-ai/sdk/resources/messages";
import { z } from "zod";
import type { PermissionMode } from "./config.ts";
import { type Commands, type Tool, ToolError, ToolRejected, type Workspace, clip } from "./tools/index.ts";

export const permissionOptions: PermissionOption[] = [
  { optionId: "allow", name: "Allow", kind: "allow_once" },
  { optionId: "allow_always", name: "Always allow this tool", kind: "allow_always" },
  { optionId: "reject", name: "Reject", kind: "reject_once" },
];

/** What the model reads of one result, at most (the client gets its own content). */
const maxResultChars = 40_000;
const maxShownChars = 8_000;

export interface CallEnv {
  sessionId: string;
  client: AgentContext;
  tools: Map<string, Tool>;
  ws: Workspace;
  commands: Commands;
  signal: AbortSignal;
  mode(): PermissionMode;
  /** Tools the user allowed for the rest of the session; `remember` adds one and saves it. */
  allowAlways: ReadonlySet<string>;
  remember(toolName: string): void;
  update(update: SessionUpdate): Promise<void>;
  touched(absolutePath: string, before: string | null): void;
  watchCommand?(): Promise<() => Promise<void>>;
}

export async function runToolCall(block: ToolUseBlockParam, env: CallEnv): Promise<ToolResultBlockParam> {
  const toolCallId = block.id;
  const result = (text: string, isError: boolean): ToolResultBlockParam => ({ type: "tool_result", tool_use_id: toolCallId, content: clip(text, maxResultChars), ...(isError ? { is_error: true } : {}) });
  const update = (fields: Omit<ToolCallUpdate, "toolCallId">) => env.update({ sessionUpdate: "tool_call_update", toolCallId, ...fields });
  const tool = env.tools.get(block.name);
  const rawInput = block.input as Record<string, unknown>;

  if (!tool) {
    await env.update({ sessionUpdate: "tool_call", toolCallId, title: block.name, kind: "other", status: "failed", rawInput });
    return result(`There is no tool named ${block.name}. The tools are: ${[...env.tools.keys()].join(", ")}.`, true);
  }
  const parsed = tool.input.safeParse(block.input);
  if (!parsed.success) {
    await env.update({ sessionUpdate: "tool_call", toolCallId, title: tool.name, kind: tool.kind, status: "failed", rawInput });
    return result(`Invalid input for ${tool.name}:\n${z.prettifyError(parsed.error)}`, true);
  }
  const input = parsed.data;
  let locations: acp.ToolCallLocation[] | undefined;
  try {
    locations = tool.locations?.(input, env.ws);
  } catch {
    // A path outside the workspace: the tool itself refuses it below, with the reason.
  }
  const title = tool.title(input);
  await env.update({ sessionUpdate: "tool_call", toolCallId, title, kind: tool.kind, status: "pending", rawInput, ...(locations ? { locations } : {}) });

  let permitted = false;
  const permit = async (content?: ToolCallContent[]) => {
    if (permitted) return;
    permitted = true;
    if (tool.needs && mustAsk(env.mode(), tool.needs) && !env.allowAlways.has(tool.name)) {
      const toolCall: ToolCallUpdate = { toolCallId, title, kind: tool.kind, status: "pending", rawInput, ...(locations ? { locations } : {}), ...(content ? { content } : {}) };
      let answer: acp.RequestPermissionResponse;
      try {
        answer = await env.client.request(acp.methods.client.session.requestPermission, { sessionId: env.sessionId, toolCall, options: permissionOptions }, { cancellationSignal: env.signal, stopWaitingOnCancel: true });
      } catch (err) {
        if (env.signal.aborted) throw new ToolError("cancelled by the user");
        throw new ToolError(`the permission request failed: ${(err as Error).message}`);
      }
      if (answer.outcome.outcome === "cancelled" || env.signal.aborted) throw new ToolError("cancelled by the user");
      const chosen = answer.outcome.optionId;
      // The kind decides, not the id: that is what the protocol gives meaning to.
      const kind = permissionOptions.find((o) => o.optionId === chosen)?.kind;
      if (kind === "allow_always") env.remember(tool.name);
      else if (kind !== "allow_once") throw new ToolRejected(`The user rejected this ${tool.needs === "edit" ? "change" : "command"}; it was not carried out. Ask them what they want instead, or do something else.`);
    }
    await update({ status: "in_progress" });
  };

  try {
    if (!tool.needs) await update({ status: "in_progress" });
    const outcome = await tool.run(input, { ws: env.ws, commands: env.commands, signal: env.signal, permit, update, touched: env.touched, watchCommand: env.watchCommand });
    if (env.signal.aborted) {
      await update({ status: "failed", rawOutput: { cancelled: true } });
      return result("Cancelled by the user.", true);
    }
    const content = outcome.content ?? [{ type: "content", content: { type: "text", text: clip(outcome.output, maxShownChars) } }];
    await update({ status: outcome.isError ? "failed" : "completed", content, ...(outcome.rawOutput !== undefined ? { rawOutput: outcome.rawOutput as Record<string, unknown> } : {}) });
    return result(outcome.output, outcome.isError ?? false);
  } catch (err) {
    const message = err instanceof ToolError ? err.message : `${tool.name} failed: ${(err as Error)?.message ?? String(err)}`;
    const text = env.signal.aborted ? "Cancelled by the user." : message;
    await update({ status: "failed", content: [{ type: "content", content: { type: "text", text } }], rawOutput: { error: text } }).catch(() => {});
    return result(text, true);
  }
}

function mustAsk(mode: PermissionMode, needs: "edit" | "execute"): boolean {
  return mode === "ask" || (mode === "acceptEdits" && needs === "execute");
}

/** How a past call is shown again (replay after `session/load`). */
export function describeCall(tools: Map<string, Tool>, name: string, input: unknown): { title: string; kind: ToolKind } {
  const tool = tools.get(name);
  const parsed = tool?.input.safeParse(input);
  return { title: tool && parsed?.success ? tool.title(parsed.data) : name, kind: tool?.kind ?? "other" };
}
