import { describe, expect, it } from "vitest";
import { answeredBy, answeredFields } from "./answer.ts";

const schema = {
  type: "object",
  properties: { name: { type: "string", title: "What should I call you?" }, colour: { type: "string", title: "Favourite colour", enum: ["red", "blue"] }, ok: { type: "boolean", title: "Agree?" } },
};

describe("an answered question", () => {
  it("shows the form's fields by their titles, in the form's order, values as a person reads them", () => {
    expect(answeredFields({ colour: "red", name: "Ada", ok: true }, schema)).toEqual([
      { label: "What should I call you?", value: "Ada" },
      { label: "Favourite colour", value: "red" },
      { label: "Agree?", value: "Yes" },
    ]);
    // Fields the schema does not name keep their own names, after the others.
    expect(answeredFields({ extra: 3, name: "Bo" }, schema)).toEqual([
      { label: "What should I call you?", value: "Bo" },
      { label: "extra", value: "3" },
    ]);
    expect(answeredFields("free text", undefined)).toBe("free text");
  });

  it("says who answered in words", () => {
    expect(answeredBy("loopback", true)).toBe("by you");
    expect(answeredBy("loopback", false)).toBe("from the server's own machine");
    expect(answeredBy("env-key", false)).toBe("with one of the server's configured API keys");
    expect(answeredBy("key_1a2b3c", false)).toBe("with API key key_1a2b3c");
    expect(answeredBy(undefined, false)).toBeNull();
  });
});
