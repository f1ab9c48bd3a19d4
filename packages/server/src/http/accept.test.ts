import { parseAccept } from "hono/utils/accept";
import { describe, expect, it } from "vitest";
import { chooseEventsFormat } from "./accept.ts";

describe("the events route's Accept", () => {
  it("gives the stream only to a client that asks for it above a JSON page", () => {
    const cases: Array<[string, string]> = [
      ["text/event-stream", "text/event-stream"],
      ["Text/Event-Stream", "text/event-stream"],
      ["text/event-stream;q=0.5", "text/event-stream"],
      ["text/event-stream, */*;q=0.1", "text/event-stream"],
      ["application/json, text/event-stream", "text/event-stream"],
      ["text/event-stream;q=0, */*", "application/json"],
      ["text/event-stream; q=0.0", "application/json"],
      ["text/event-stream;q=0.2, application/json", "application/json"],
      ["text/event-stream;q=0.5, */*;q=0.9", "application/json"],
      ["*/*", "application/json"],
      ["text/*", "application/json"],
      ["application/json", "application/json"],
      ["", "application/json"],
      ["garbage;;;q=x,,", "application/json"],
    ];
    for (const [header, format] of cases) expect(chooseEventsFormat(parseAccept(header)), header).toBe(format);
  });
});
