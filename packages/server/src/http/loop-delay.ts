/**
 * @module loop-delay — how late this process's event loop ran, for `/healthz`: a node that answers late because
 * its machine is out of CPU (or a GC stalls it) tells so, apart from a slow database or a slow sandbox.
 *
 * Windows of a minute: the figures cover the current window and the one before it, so a stall shows for one to
 * two minutes and then ages out.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";

const resolutionMs = 10;

/** Milliseconds the loop ran late. */
export interface LoopDelayView {
  p99: number;
  max: number;
}

export class LoopDelay {
  private readonly histogram: IntervalHistogram;
  private previous: LoopDelayView = { p99: 0, max: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(windowMs = 60_000) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.previous = this.current();
      this.histogram.reset();
    }, windowMs);
    this.timer.unref();
  }

  /** Milliseconds, over the current window and the one before. */
  view(): LoopDelayView {
    const now = this.current();
    return { p99: Math.max(now.p99, this.previous.p99), max: Math.max(now.max, this.previous.max) };
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private current(): LoopDelayView {
    if (this.histogram.count === 0) return { p99: 0, max: 0 };
    // Nanoseconds between the sampling timer's runs, which are `resolution` apart when the loop is never late.
    const lateMs = (ns: number) => Math.max(0, Math.round((ns / 1e6 - resolutionMs) * 100) / 100);
    return { p99: lateMs(this.histogram.percentile(99)), max: lateMs(this.histogram.max) };
  }
}
