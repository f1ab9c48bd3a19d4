import { describe, expect, it } from "vitest";
import type { NewEvent } from "@airlock/protocol";
import { Masker } from "./mask.ts";

const chunk = (text: string): NewEvent => ({ type: "update", data: { sessionUpdate: "agent_message_chunk", content: { type: "text", text } } });
const out = (terminalId: string, data: string): NewEvent => ({ type: "terminal.output", data: { terminalId, data } });
const texts = (events: NewEvent[]) => events.map((e) => ((e.data as any).content?.text ?? (e.data as any).data) as string);

describe("Masker", () => {
  it("masks a value wherever it is in an event's data, nested or not", () => {
    const m = new Masker(["s3cr3t-value"]);
    const [e] = m.events([{ type: "update", data: { sessionUpdate: "tool_call", toolCallId: "c", title: "run", rawInput: { command: "echo s3cr3t-value; echo s3cr3t-value" } } }]);
    expect(e.data).toEqual({ sessionUpdate: "tool_call", toolCallId: "c", title: "run", rawInput: { command: "echo ***; echo ***" } });
  });

  it("masks a value split across chunks of one batch: the mark where it begins, the rest removed", () => {
    const m = new Masker(["abcdefgh"]);
    const events = m.events([chunk("token: ab"), chunk("cde"), chunk("fgh done"), chunk(" and abcdefgh")]);
    expect(texts(events)).toEqual(["token: ***", "", " done", " and ***"]);
    expect(texts(events).join("")).not.toContain("abc");
  });

  it("masks the rest of a value that began in an earlier batch (the stored part stays)", () => {
    const m = new Masker(["abcdefgh"]);
    expect(texts(m.events([chunk("x abcd")]))).toEqual(["x abcd"]);
    expect(texts(m.events([chunk("efgh y")]))).toEqual(["*** y"]);
  });

  it("keeps streams apart: terminals and message kinds each have their own text", () => {
    const m = new Masker(["abcdefgh"]);
    const events = m.events([out("t1", "abcd"), out("t2", "efgh"), chunk("abcd"), out("t1", "efgh!")]);
    expect(texts(events)).toEqual(["***", "efgh", "abcd", "!"]);
  });

  it("prefers the longest value and merges overlapping ones", () => {
    const m = new Masker(["secret", "secret-longer"]);
    expect(m.text("a secret-longer b secret")).toBe("a *** b ***");
    expect(texts(m.events([chunk("secret-lo"), chunk("nger")]))).toEqual(["***", ""]);
  });

  it("masks failure reasons, turn errors and interaction requests of a batch; leaves a batch alone without values", () => {
    const m = new Masker(["hunter22"]);
    const batch = m.batch({
      events: [],
      session: { status: "failed", statusReason: "agent said hunter22" },
      turns: { update: [{ id: "t", patch: { error: "stderr: hunter22" } }] },
    });
    expect(batch.session?.statusReason).toBe("agent said ***");
    expect(batch.turns?.update?.[0].patch.error).toBe("stderr: ***");
    const plain = { events: [chunk("hunter22")] };
    expect(new Masker([]).batch(plain)).toBe(plain);
  });
});

describe("Masker.holdBack", () => {
  let seq = 0;
  const say = (text: string, kind = "agent_message_chunk") =>
    ({ seq: ++seq, at: 0, kind: "agent", msg: { jsonrpc: "2.0", method: "session/update", params: { sessionId: "s", update: { sessionUpdate: kind, content: { type: "text", text } } } } }) as const;
  const term = (data: string) => ({ seq: ++seq, at: 0, kind: "terminal", terminalId: "t1", stream: "output", data }) as const;
  const exit = () => ({ seq: ++seq, at: 0, kind: "terminal", terminalId: "t1", stream: "exit", exitCode: 0 }) as const;

  it("holds the trailing records from where a value begins, and nothing otherwise", () => {
    const m = new Masker(["abcdefgh"]);
    expect(m.holdBack([say("hello "), say("world")])).toBe(0);
    expect(m.holdBack([say("hello "), say("ab")])).toBe(1);
    expect(m.holdBack([say("hello a"), say("bc"), say("d")])).toBe(3);
    expect(m.holdBack([say("x abcdefgh")])).toBe(0); // whole: masked as it is
    expect(m.holdBack([term("ab"), exit()])).toBe(0); // the stream ended
    expect(new Masker([]).holdBack([say("ab")])).toBe(0);
  });

  it("holds a beginning that started in text already stored (the stream's carry)", () => {
    const m = new Masker(["abcdefgh"]);
    m.events([chunk("x ab")]); // stored: the carry ends with "ab"
    expect(m.holdBack([say("cd")])).toBe(1);
    expect(m.holdBack([say("zz")])).toBe(0);
  });

  it("with held records joined to the next batch, no part of a split value is stored", () => {
    const m = new Masker(["abcdefgh"]);
    const first = [say("token: ab"), say("cd")];
    const held = m.holdBack(first);
    expect(held).toBe(2);
    const stored = m.events([]);
    expect(stored).toEqual([]);
    const next = m.events([chunk("token: ab"), chunk("cd"), chunk("efgh!")]);
    expect(texts(next).join("")).toBe("token: ***!");
  });

  it("keeps terminals and message kinds apart", () => {
    const m = new Masker(["abcdefgh"]);
    expect(m.holdBack([say("ab"), term("zz")])).toBe(2); // the message's "ab" is held, and the record after it
    expect(m.holdBack([term("ab"), say("zz")])).toBe(2);
    expect(m.holdBack([say("zz", "agent_thought_chunk"), say("zz")])).toBe(0);
  });
});
