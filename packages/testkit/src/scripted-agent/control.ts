/**
 * @module control — behaviours for testing the control plane: `slow`, `hang`, `crash` and `error`.
 */
import { RequestError } from "@agentclientprotocol/sdk";
import { type Behaviour, sleep } from "./turn.ts";

const tickMs = 100;

/** `slow [seconds]` (30 by default): one chunk every 100 ms, each with its own text, until done or cancelled. */
export const slow: Behaviour = async (turn) => {
  const seconds = Number(turn.args[0]);
  const total = Math.max(1, Math.round(((Number.isFinite(seconds) && seconds > 0 ? seconds : 30) * 1000) / tickMs));
  const start = performance.now();
  for (let i = 1; i <= total && !turn.signal.aborted; i++) {
    // Every chunk names its number ("chunk 7"): clients and tests can see a gap, a duplicate or a reorder.
    await turn.say(`${i === 1 ? "Streaming one chunk every 100 ms: " : ""}chunk ${i}${i === total ? ". Done." : ", "}`);
    // Paced against the start, so the turn lasts `seconds` however long each send took.
    await sleep(start + i * tickMs - performance.now(), turn.signal);
  }
  return turn.signal.aborted ? "cancelled" : "end_turn";
};

/**
 * `stubborn [seconds]` (3 by default): one chunk every 100 ms for that long, taking no notice of `session/cancel`
 * until the end (then it answers `cancelled`): an agent slow to honour a cancel, as one finishing a tool call is.
 */
export const stubborn: Behaviour = async (turn) => {
  const seconds = Number(turn.args[0]);
  const total = Math.max(1, Math.round(((Number.isFinite(seconds) && seconds > 0 ? seconds : 3) * 1000) / tickMs));
  const never = new AbortController().signal;
  for (let i = 1; i <= total; i++) {
    await turn.say(`tick ${i}${i === total ? "." : ", "}`);
    await sleep(tickMs, never);
  }
  return turn.signal.aborted ? "cancelled" : "end_turn";
};

/** `hang`: never answers, until cancelled. */
export const hang: Behaviour = async (turn) => {
  while (!turn.signal.aborted) await sleep(60_000, turn.signal);
  return "cancelled";
};

/** `crash`: one chunk, then the process exits with code 3 in the middle of the turn. */
export const crash: Behaviour = async (turn) => {
  await turn.say("Something is about to go wrong…");
  // Exit once stdout has taken the chunk, so the client sees it before the process is gone.
  process.stdout.write("", () => process.exit(3));
  await new Promise(() => {});
  return "end_turn";
};

/** `error`: the prompt is answered with a JSON-RPC error. */
export const error: Behaviour = async () => {
  throw new RequestError(-32603, "scripted failure");
};
