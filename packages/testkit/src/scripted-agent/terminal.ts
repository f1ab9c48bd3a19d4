/**
 * @module terminal — `run <command…>`: runs `sh -c <command>` in a client terminal, shown live as an `execute`
 * tool call, and replies with its output and exit code. Cancel kills the command.
 */
import * as acp from "@agentclientprotocol/sdk";
import { type Behaviour, cancellable, describe, fenced, newToolCallId, reply } from "./turn.ts";

export const run: Behaviour = async (turn) => {
  const command = turn.rest;
  if (!command) return reply(turn, "Tell me what to run: `run ls -la`.");
  if (!turn.capabilities.terminal) return reply(turn, "This client offers no terminal, so I cannot run commands here.");
  const { sessionId } = turn;
  const toolCallId = newToolCallId();

  let terminalId: string;
  try {
    ({ terminalId } = await turn.client.request(acp.methods.client.terminal.create, { sessionId, command: "sh", args: ["-c", command], cwd: turn.cwd }, cancellable(turn)));
  } catch (err) {
    if (turn.signal.aborted) return "cancelled";
    return reply(turn, `Could not start \`${command}\`: ${describe(err)}`);
  }
  await turn.update({
    sessionUpdate: "tool_call",
    toolCallId,
    title: `Run \`${command}\``,
    kind: "execute",
    status: "in_progress",
    rawInput: { command },
    content: [{ type: "terminal", terminalId }],
  });

  const ids: acp.WaitForTerminalExitRequest = { sessionId, terminalId };
  // Best effort: after a cancel, or when the client has gone, nobody waits for these answers.
  const release = () => turn.client.request(acp.methods.client.terminal.release, ids).catch(() => {});
  try {
    const exit = await turn.client.request(acp.methods.client.terminal.waitForExit, ids, cancellable(turn));
    const { output, truncated } = await turn.client.request(acp.methods.client.terminal.output, ids, cancellable(turn));
    await release();
    const ok = exit.exitCode === 0;
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: ok ? "completed" : "failed", rawOutput: { exitCode: exit.exitCode ?? null, signal: exit.signal ?? null } });
    const how = exit.exitCode !== null && exit.exitCode !== undefined ? `exit code ${exit.exitCode}` : `signal ${exit.signal ?? "unknown"}`;
    await turn.say(output ? `${fenced(output)}\n` : "(no output)\n");
    return reply(turn, `\`${command}\` finished with ${how}${truncated ? " (output truncated)" : ""}.`);
  } catch (err) {
    if (turn.signal.aborted) {
      void turn.client.request(acp.methods.client.terminal.kill, ids).catch(() => {}).then(release);
      await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "failed", rawOutput: { cancelled: true } });
      return "cancelled";
    }
    void release();
    await turn.update({ sessionUpdate: "tool_call_update", toolCallId, status: "failed" });
    return reply(turn, `Lost track of \`${command}\`: ${describe(err)}`);
  }
};
