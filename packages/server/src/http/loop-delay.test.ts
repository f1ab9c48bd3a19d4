import { describe, expect, it } from "vitest";
import { LoopDelay } from "./loop-delay.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("event-loop delay", () => {
  it("shows a stall of the loop as its max", async () => {
    const meter = new LoopDelay(1500);
    try {
      await sleep(50);
      const t = Date.now();
      while (Date.now() - t < 150); // the loop is stuck for 150 ms
      await sleep(50);
      expect(meter.view().max).toBeGreaterThanOrEqual(100);
      // Still there after a window has turned (it ages out after two).
      await sleep(1500);
      expect(meter.view().max).toBeGreaterThanOrEqual(100);
    } finally {
      meter.close();
    }
  });
});
