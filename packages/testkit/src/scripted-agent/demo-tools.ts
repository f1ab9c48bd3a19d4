/**
 * @module demo-tools — `tool` and `plan`: what an edit and a task list look like, without touching any file.
 */
import type { PlanEntry } from "@agentclientprotocol/sdk";
import { join } from "node:path";
import { type Behaviour, newToolCallId, sleep } from "./turn.ts";

export const tool: Behaviour = async (turn) => {
  const toolCallId = newToolCallId();
  const path = join(turn.cwd, "greeting.ts");
  const oldText = 'export const greeting = "Hello";\n';
  const newText = 'export const greeting = "Hello, world";\n';
  await turn.update({
    sessionUpdate: "tool_call",
    toolCallId,
    title: "Edit greeting.ts",
    kind: "edit",
    status: "pending",
    locations: [{ path }],
    rawInput: { path, oldText, newText },
  });
  await sleep(50, turn.signal);
  await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "in_progress" });
  await sleep(100, turn.signal);
  if (turn.signal.aborted) {
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "failed" });
    return "cancelled";
  }
  await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "completed", content: [{ type: "diff", path, oldText, newText }] });
  await turn.say("I changed the greeting in greeting.ts to \"Hello, world\". (A demonstration: no file was written — use `write` or `permission` for real changes.)");
  return "end_turn";
};

export const plan: Behaviour = async (turn) => {
  const steps = ["Read the relevant code", "Make the change", "Run the tests"];
  const entries: PlanEntry[] = steps.map((content) => ({ content, priority: "medium", status: "pending" }));
  await turn.update({ sessionUpdate: "plan", entries: entries.map((e) => ({ ...e })) });
  for (const entry of entries) {
    await sleep(150, turn.signal);
    if (turn.signal.aborted) return "cancelled";
    entry.status = "completed";
    // A plan update always carries the whole list: clients replace theirs with it.
    await turn.update({ sessionUpdate: "plan", entries: entries.map((e) => ({ ...e })) });
  }
  await turn.say("All three steps of the plan are done.");
  return "end_turn";
};
