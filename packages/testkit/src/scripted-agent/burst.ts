/**
 * @module burst — `burst N [rate R]`: N tiny `agent_message_chunk`s, as fast as possible or at R per second.
 *
 * Written straight to stdout in batches rather than through the SDK's per-message path: the point is to
 * measure the relay and the control plane, so the agent itself must not be the bottleneck. Each update carries
 * `_meta.airlockTs` (ms, the wall clock with sub-ms precision) so benchmarks can measure latency.
 */
import type { StopReason } from "@agentclientprotocol/sdk";

const batchSize = 512;

export async function burst(sessionId: string, args: string[], signal: AbortSignal): Promise<StopReason> {
  const n = Math.max(0, Math.floor(Number(args[0]) || 1000));
  const rateAt = args.findIndex((a) => a.toLowerCase() === "rate");
  const rate = rateAt >= 0 ? Number(args[rateAt + 1]) || 0 : 0;
  // Let earlier SDK writes reach stdout first, so order is kept.
  await new Promise((resolve) => setImmediate(resolve));
  const prefix = `{"jsonrpc":"2.0","method":"session/update","params":{"sessionId":${JSON.stringify(sessionId)},"update":{"sessionUpdate":"agent_message_chunk","content":{"type":"text","text":"x"},"_meta":{"airlockTs":`;
  const line = (i: number) => `${prefix}${performance.timeOrigin + performance.now()},"i":${i}}}}}\n`;
  const write = (text: string) =>
    new Promise<void>((resolve) => {
      if (process.stdout.write(text)) resolve();
      else process.stdout.once("drain", resolve);
    });

  let sent = 0;
  if (rate <= 0) {
    while (sent < n && !signal.aborted) {
      let out = "";
      const end = Math.min(n, sent + batchSize);
      for (; sent < end; sent++) out += line(sent);
      await write(out);
    }
  } else {
    const start = performance.now();
    while (sent < n && !signal.aborted) {
      const due = Math.min(n, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      let out = "";
      for (; sent < due; sent++) out += line(sent);
      if (out) await write(out);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  await new Promise((resolve) => process.stdout.write("", resolve));
  return signal.aborted ? "cancelled" : "end_turn";
}
