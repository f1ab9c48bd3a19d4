/**
 * @module burst — `burst <N> [rate <R>]`: N `agent_message_chunk`s with the text "x", as fast as possible or at
 * R per second, each stamped with `_meta: {airlockTs, i}` so benchmarks can measure loss, order and latency.
 *
 * The lines are written straight to stdout in batches, not through the SDK. Measured here with N = 200,000 to
 * a bare reader: the SDK's per-message path (`client.notify`: one JSON.stringify, TextEncoder and stream writer
 * acquisition per message, on a promise chain) delivers about 100,000 messages/s, while batched raw lines reach
 * about 650,000/s. Airlock's relay alone reads about 200,000/s, so through the SDK the agent, not the system
 * under test, would set the ceiling. The lines go through the same `Output` queue as the SDK's messages, and
 * the turn has awaited all its earlier updates, so order is kept.
 */
import type { StopReason } from "@agentclientprotocol/sdk";
import { wallClockMs } from "../wall-clock.ts";
import type { Turn } from "./turn.ts";

export interface BurstSink {
  write(text: string): Promise<void>;
}

export interface BurstPlan {
  count: number;
  /** Messages per second; 0 means as fast as possible. */
  rate: number;
}

const defaultCount = 1000;
const maxCount = 100_000_000;
/** Lines per write: big enough to amortise the write, small enough to check for cancel often. */
const batchLines = 1024;

export function parseBurst(args: readonly string[]): BurstPlan {
  const count = Number(args[0]);
  const at = args.findIndex((a) => a.toLowerCase() === "rate");
  const rate = at >= 0 ? Number(args[at + 1]) : 0;
  return {
    count: Number.isFinite(count) && count >= 0 ? Math.min(maxCount, Math.floor(count)) : defaultCount,
    rate: Number.isFinite(rate) && rate > 0 ? rate : 0,
  };
}

// The wall clock, which the reading process shares, to the microsecond.
const now = wallClockMs;
const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));
const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function burst(turn: Turn, sink: BurstSink): Promise<StopReason> {
  const { count, rate } = parseBurst(turn.args);
  const head = `{"jsonrpc":"2.0","method":"session/update","params":{"sessionId":${JSON.stringify(turn.sessionId)},"update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"x"},"_meta":{"airlockTs":`;
  const lines = (from: number, to: number) => {
    let text = "";
    for (let i = from; i < to; i++) text += `${head}${now()},"i":${i}}}}}\n`;
    return text;
  };

  let sent = 0;
  const start = performance.now();
  while (sent < count && !turn.signal.aborted) {
    // With a rate, send every line that is due by now (catching up after a late timer), then sleep until the next.
    const due = rate ? Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1) : count;
    if (due <= sent) {
      await wait(start + (sent * 1000) / rate - performance.now());
      continue;
    }
    const end = Math.min(due, sent + batchLines);
    await sink.write(lines(sent, end));
    sent = end;
    // A pipe write can complete synchronously: yield so a `session/cancel` on stdin gets read.
    await nextTick();
  }
  return turn.signal.aborted ? "cancelled" : "end_turn";
}
