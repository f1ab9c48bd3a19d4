import { describe, expect, it } from "vitest";
import { isApproval } from "./review.ts";

describe("the reviewer's verdict", () => {
  it("is an approval only when it says APPROVED and lists nothing", () => {
    for (const yes of ["APPROVED", "approved.", "**APPROVED**", "  APPROVED\n", "APPROVED!\nLooks good to me."]) expect(isApproval(yes), yes).toBe(true);
    for (const no of ["1. app.js: wrong", "Not APPROVED", "APPROVED\n1. but fix the typo", "", "I approve of most of it"]) expect(isApproval(no), no).toBe(false);
  });
});
