/**
 * @module files — `write <path> <text…>` and `read <path>` through the client's `fs/*` methods, so the client
 * (Airlock's relay, an editor) sees and controls every file access.
 */
import * as acp from "@agentclientprotocol/sdk";
import { isAbsolute, join } from "node:path";
import { afterFirstWord } from "./keywords.ts";
import { type Behaviour, type Turn, cancellable, describe, fenced, reply } from "./turn.ts";

const resolve = (turn: Turn, path: string) => (isAbsolute(path) ? path : join(turn.cwd, path));

export const write: Behaviour = async (turn) => {
  const [path] = turn.args;
  if (!path) return reply(turn, "Tell me what to write where: `write notes.md some text`.");
  if (!turn.capabilities.fs?.writeTextFile) return reply(turn, "This client offers no file writing (fs.writeTextFile), so I cannot write files here.");
  const content = `${afterFirstWord(turn.rest)}\n`;
  try {
    await turn.client.request(acp.methods.client.fs.writeTextFile, { sessionId: turn.sessionId, path: resolve(turn, path), content }, cancellable(turn));
  } catch (err) {
    if (turn.signal.aborted) return "cancelled";
    return reply(turn, `Could not write ${path}: ${describe(err)}`);
  }
  const lines = content.split("\n").length - 1;
  return reply(turn, `Wrote ${path} (${lines} line${lines === 1 ? "" : "s"}, ${Buffer.byteLength(content)} bytes).`);
};

export const read: Behaviour = async (turn) => {
  const [path] = turn.args;
  if (!path) return reply(turn, "Tell me which file to read: `read notes.md`.");
  if (!turn.capabilities.fs?.readTextFile) return reply(turn, "This client offers no file reading (fs.readTextFile), so I cannot read files here.");
  let content: string;
  try {
    ({ content } = await turn.client.request(acp.methods.client.fs.readTextFile, { sessionId: turn.sessionId, path: resolve(turn, path) }, cancellable(turn)));
  } catch (err) {
    if (turn.signal.aborted) return "cancelled";
    return reply(turn, `Could not read ${path}: ${describe(err)}`);
  }
  await turn.say(`Here is ${path}:\n\n`);
  return reply(turn, fenced(content));
};
