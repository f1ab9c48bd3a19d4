import http from "node:http";
import { wallClockMs } from "@airlock/testkit/wall-clock";

/**
 * A lean SSE reader for benchmarks: counts frames, checks that `id:`s follow one another (gaps and duplicates),
 * and records latency from the agent's embedded `airlockTs` to receipt (same clock: same machine).
 */
export interface SseStats {
  frames: number;
  chunks: number;
  gaps: number;
  duplicates: number;
  lastId: number;
  latencies: number[];
  /** With `stages`: for each chunk, the part of its latency until the server stored it (agent → stored). */
  toStore: number[];
  firstAt: number;
  lastAt: number;
}

export interface SseOptions {
  headers?: Record<string, string>;
  /** Keep per-chunk latencies (costs memory for huge bursts). */
  latency?: boolean;
  /** With `latency`, also split each latency at the stored `at` (one client of many is enough). */
  stages?: boolean;
  /** Called once the response headers have arrived (the client is subscribed). */
  onConnect?: () => void;
  /** Called per frame; return true to stop reading. */
  onFrame?: (frame: string, stats: SseStats) => boolean | void;
  signal?: AbortSignal;
}

// The agent's stamps are the wall clock to the microsecond (see the scripted agent's burst); so is this.
const wallClock = wallClockMs;
const tsPattern = /"airlockTs":([0-9.]+)/;
const atPattern = /"at":"([^"]+)"/;

/** Reads an SSE stream with node:http (lighter than fetch: with a hundred streams the reader must not be the bottleneck). */
export function readSse(url: string, options: SseOptions = {}): Promise<SseStats> {
  const stats: SseStats = { frames: 0, chunks: 0, gaps: 0, duplicates: 0, lastId: 0, latencies: [], toStore: [], firstAt: 0, lastAt: 0 };
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: "text/event-stream", ...options.headers }, agent: false, signal: options.signal }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`SSE ${url}: ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding("utf8");
      options.onConnect?.();
      let buffer = "";
      const finish = () => {
        req.destroy();
        resolve(stats);
      };
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        let start = 0;
        const now = wallClock();
        while ((end = buffer.indexOf("\n\n", start)) >= 0) {
          const frame = buffer.slice(start, end);
          start = end + 2;
          const idAt = frame.indexOf("id: ");
          if (idAt < 0) continue;
          const id = parseInt(frame.slice(idAt + 4, frame.indexOf("\n", idAt)), 10);
          if (id <= stats.lastId) stats.duplicates++;
          else if (stats.lastId && id !== stats.lastId + 1) stats.gaps++;
          if (id > stats.lastId) stats.lastId = id;
          stats.frames++;
          if (frame.includes('"airlockTs"')) {
            stats.chunks++;
            if (!stats.firstAt) stats.firstAt = now;
            stats.lastAt = now;
            if (options.latency) {
              const m = tsPattern.exec(frame);
              if (m) {
                stats.latencies.push(now - Number(m[1]));
                // The stored `at` has millisecond precision: a coarse split of the latency, not a measure of its own.
                const at = options.stages ? atPattern.exec(frame) : null;
                if (at) stats.toStore.push(Date.parse(at[1]) - Number(m[1]));
              }
            }
          }
          if (options.onFrame?.(frame, stats)) return finish();
        }
        buffer = buffer.slice(start);
      });
      res.on("end", () => resolve(stats));
      res.on("error", (err) => (options.signal?.aborted ? resolve(stats) : reject(err)));
    });
    req.on("error", (err) => (options.signal?.aborted ? resolve(stats) : reject(err)));
  });
}
