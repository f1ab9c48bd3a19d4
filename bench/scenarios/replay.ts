/**
 * Replay: a new client reads a whole 100,000-event session from seq 1, over SSE and as JSON pages.
 */
import { startBenchServer } from "../lib/airlock.ts";
import type { BenchContext } from "../lib/context.ts";
import { readSse } from "../lib/sse.ts";
import { round } from "../lib/stats.ts";

export async function replay(ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 2000 : 100_000;
  const server = await startBenchServer();
  try {
    const { id } = await server.readySession();
    const url = `${server.url}/v1/sessions/${id}/events`;
    const done = readSse(url, { onFrame: (f) => f.includes("event: turn.ended") });
    await server.api("POST", `/v1/sessions/${id}/prompt`, { text: `burst ${n}` });
    const { lastId } = await done;
    // let the session settle so the log does not grow while we read
    await new Promise((r) => setTimeout(r, 300));
    const total = (await server.api("GET", `/v1/sessions/${id}`)).lastSeq as number;

    let t0 = performance.now();
    const sse = await readSse(url, { onFrame: (_f, s) => s.lastId >= total });
    const sseMs = performance.now() - t0;
    if (sse.frames !== total || sse.gaps || sse.duplicates) throw new Error(`replay read ${sse.frames}/${total} frames, ${sse.gaps} gaps`);
    ctx.record({ scenario: "replay", metric: `new SSE client reads ${total} events from seq 1`, value: round(sseMs, 0), unit: "ms", target: "< 1000", note: `${round(total / (sseMs / 1000), 0)} events/s` });

    t0 = performance.now();
    let after = 0;
    let read = 0;
    while (after < total) {
      const page = await server.api("GET", `/v1/sessions/${id}/events?after=${after}&limit=1000`);
      read += page.events.length;
      after = page.nextAfter;
    }
    const pagesMs = performance.now() - t0;
    ctx.record({ scenario: "replay", metric: `JSON pages of 1000 read ${total} events from seq 1`, value: round(pagesMs, 0), unit: "ms", note: `${read} events, ${round(total / (pagesMs / 1000), 0)} events/s` });
    void lastId;
  } finally {
    await server.stop();
  }
}
