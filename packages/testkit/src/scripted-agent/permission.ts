/**
 * @module permission — `permission`: asks the client before writing `permitted.txt`, and waits however long
 * the human takes. `session/cancel` ends the wait at once, even if the client never answers the request.
 */
import type { PermissionOption, RequestPermissionResponse, ToolCallUpdate } from "@agentclientprotocol/sdk";
import * as acp from "@agentclientprotocol/sdk";
import { join } from "node:path";
import { type Behaviour, cancellable, describe, newToolCallId, reply } from "./turn.ts";

export const permissionOptions: PermissionOption[] = [
  { optionId: "allow", name: "Allow", kind: "allow_once" },
  { optionId: "allow_always", name: "Always allow", kind: "allow_always" },
  { optionId: "reject", name: "Reject", kind: "reject_once" },
];

const content = "approved\n";

export const permission: Behaviour = async (turn) => {
  const toolCallId = newToolCallId();
  const path = join(turn.cwd, "permitted.txt");
  const call = {
    toolCallId,
    title: "Write permitted.txt",
    kind: "edit",
    status: "pending",
    locations: [{ path }],
    rawInput: { path, content },
    content: [{ type: "diff", path, oldText: null, newText: content }],
  } satisfies ToolCallUpdate;
  await turn.update({ sessionUpdate: "tool_call", ...call });

  let answer: RequestPermissionResponse;
  try {
    answer = await turn.client.request(
      acp.methods.client.session.requestPermission,
      { sessionId: turn.sessionId, toolCall: call, options: permissionOptions },
      cancellable(turn),
    );
  } catch (err) {
    if (turn.signal.aborted) answer = { outcome: { outcome: "cancelled" } };
    else {
      await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "failed" });
      return reply(turn, `The permission request failed: ${describe(err)}`);
    }
  }

  if (answer.outcome.outcome === "cancelled" || turn.signal.aborted) {
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "failed" });
    return "cancelled";
  }
  const { optionId } = answer.outcome;
  // Match on the option's kind, not its id: that is what the protocol gives meaning to.
  const kind = permissionOptions.find((o) => o.optionId === optionId)?.kind;
  if (kind !== "allow_once" && kind !== "allow_always") {
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "failed" });
    return reply(turn, kind ? "Permission denied: I left permitted.txt alone." : `Permission denied: "${optionId}" is not one of my options.`);
  }
  if (!turn.capabilities.fs?.writeTextFile) {
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "failed" });
    return reply(turn, `Permission granted (${optionId}), but this client offers no file writing (fs.writeTextFile), so I wrote nothing.`);
  }
  await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "in_progress" });
  try {
    await turn.client.request(acp.methods.client.fs.writeTextFile, { sessionId: turn.sessionId, path, content }, cancellable(turn));
  } catch (err) {
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "failed" });
    if (turn.signal.aborted) return "cancelled";
    return reply(turn, `Permission granted (${optionId}), but I could not write permitted.txt: ${describe(err)}`);
  }
  await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "completed" });
  return reply(turn, `Permission granted (${optionId}): I wrote "approved" to permitted.txt.`);
};
