/**
 * @module wall-clock — the wall clock to the microsecond, shared by processes on one machine: the scripted agent
 * stamps its chunks with it and benchmark readers compare against it.
 *
 * `Date.now()` has only milliseconds, so the time is `performance.now()` plus an anchor. The anchor is taken
 * again every second: the wall clock is steered by time synchronisation against the monotonic one (seen on
 * a virtual machine: 5 s apart after 7 minutes), and anchors taken minutes apart by two processes would disagree
 * by that much. Readings never go backwards within a process.
 */
const reanchorMs = 1000;
let anchor = 0;
let anchoredAt = -Infinity;
let last = 0;

export function wallClockMs(): number {
  const p = performance.now();
  if (p - anchoredAt >= reanchorMs) {
    anchor = Date.now() - p;
    anchoredAt = p;
  }
  last = Math.max(last, anchor + p);
  return last;
}
