import { type EventRow, sseFrame } from "@airlock/protocol";
import { describe, expect, it } from "vitest";
import { EventBus, type LiveEvent, joinBytes } from "./bus.ts";

const row = (seq: number, text: string): EventRow => ({
  seq,
  sessionId: "ses_1",
  at: 1_700_000_000_000 + seq,
  type: "update",
  turnId: "turn_1",
  data: JSON.stringify({ sessionUpdate: "agent_message_chunk", content: { type: "text", text } }),
});

function collect(bus: EventBus): LiveEvent[][] {
  const got: LiveEvent[][] = [];
  bus.subscribe("ses_1", (events) => got.push(events));
  return got;
}

describe("event bus", () => {
  it("gives each event its own frame, as a slice of one buffer for the batch", () => {
    const bus = new EventBus();
    const got = collect(bus);
    const rows = [row(1, "héllo"), row(2, "wörld ✓"), row(3, "")];
    bus.publish("ses_1", rows);
    const [events] = got;
    expect(events.map((e) => e.bytes.toString())).toEqual(rows.map(sseFrame));
    expect(new Set(events.map((e) => e.bytes.buffer)).size).toBe(1);
  });

  it("joins consecutive events of a batch into one slice, and keeps batches apart", () => {
    const bus = new EventBus();
    const got = collect(bus);
    // Big frames: each batch gets a buffer of its own, not a slice of Node's shared pool.
    const text = "x".repeat(5000);
    bus.publish("ses_1", [row(1, text), row(2, text)]);
    bus.publish("ses_1", [row(3, text)]);
    const events = got.flat();
    const joined = joinBytes(events);
    expect(joined).toHaveLength(2);
    expect(Buffer.concat(joined).toString()).toBe([1, 2, 3].map((seq) => sseFrame(row(seq, text))).join(""));
    expect(joinBytes(events.slice(1))).toHaveLength(2);
    expect(joinBytes([events[0], events[2]])).toHaveLength(2);
    expect(joinBytes([])).toEqual([]);
  });

  it("marks a stopped or failed status as a possible end of the log", () => {
    const bus = new EventBus();
    const got = collect(bus);
    const status = (seq: number, s: string): EventRow => ({ ...row(seq, ""), type: "session.status", data: JSON.stringify({ status: s }) });
    bus.publish("ses_1", [status(1, "running"), status(2, "stopped"), status(3, "failed")]);
    expect(got[0].map((e) => e.mayEnd)).toEqual([false, true, true]);
  });
});
