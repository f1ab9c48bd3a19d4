import { describe, expect, it } from "vitest";
import type { InteractionRequest } from "@airlock/client";
import { toAnswer } from "../commands/answer.ts";
import { exitCodeOfTurn } from "../exit.ts";
import { autoAnswer } from "./policy.ts";

const options = [
  { optionId: "yes-once", name: "Allow", kind: "allow_once" as const },
  { optionId: "yes-always", name: "Always allow", kind: "allow_always" as const },
  { optionId: "nope", name: "Reject", kind: "reject_once" as const },
];
const permission = (kind: string): InteractionRequest => ({ interactionId: "int_1", kind: "permission", toolCall: { toolCallId: "t", kind: kind as "edit" }, options });

describe("--approve", () => {
  it("allows by ACP kind, never by id: all of them, only edits, or none", () => {
    expect(autoAnswer(permission("execute"), "all")).toBe("yes-once");
    expect(autoAnswer(permission("edit"), "edits")).toBe("yes-once");
    expect(autoAnswer(permission("delete"), "edits")).toBe("yes-once");
    expect(autoAnswer(permission("execute"), "edits")).toBeUndefined();
    expect(autoAnswer(permission("edit"), "none")).toBeUndefined();
    expect(autoAnswer({ ...permission("edit"), options: [options[1], options[2]] }, "all")).toBe("yes-always");
    expect(autoAnswer({ ...permission("edit"), options: [options[2]] }, "all")).toBeUndefined();
    expect(autoAnswer({ interactionId: "int_2", kind: "question", prompt: "name?" }, "all")).toBeUndefined();
  });
});

describe("airlock answer's OPTION", () => {
  const pending = { kind: "permission" as const, request: { options } };
  it("matches an option by id, name, kind or a word, and refuses anything else", () => {
    expect(toAnswer(pending, "nope")).toEqual({ optionId: "nope" });
    expect(toAnswer(pending, "always allow")).toEqual({ optionId: "yes-always" });
    expect(toAnswer(pending, "reject_once")).toEqual({ optionId: "nope" });
    expect(toAnswer(pending, "allow")).toEqual({ optionId: "yes-once" });
    expect(toAnswer(pending, "always")).toEqual({ optionId: "yes-always" });
    expect(toAnswer(pending, "deny")).toEqual({ optionId: "nope" });
    expect(() => toAnswer(pending, "maybe")).toThrow(/"maybe" is not one of this request's options: yes-once \(Allow\)/);
  });
  it("takes a question's answer as JSON when it is JSON, else as text", () => {
    expect(toAnswer({ kind: "question", request: {} }, '{"name":"Ada"}')).toEqual({ answer: { name: "Ada" } });
    expect(toAnswer({ kind: "question", request: {} }, "Ada Lovelace")).toEqual({ answer: "Ada Lovelace" });
  });
});

describe("exit codes", () => {
  it("tell how a turn ended", () => {
    const of = (stopReason: Parameters<typeof exitCodeOfTurn>[0]["stopReason"], codes: string[] = []) => exitCodeOfTurn({ stopReason, errors: codes.map((code) => ({ message: "m", code })) });
    expect([of("end_turn"), of("error"), of("cancelled"), of("max_tokens"), of("max_turn_requests"), of("refusal")]).toEqual([0, 1, 3, 4, 4, 5]);
    expect(of("end_turn", ["budget_exceeded"])).toBe(4);
  });
});
