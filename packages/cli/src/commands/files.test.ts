/** `airlock diff`: the diff on stdout, and on stderr the notes and whether it is incomplete. */
import { PassThrough } from "node:stream";
import type { WorkspaceDiff } from "@airlock/protocol";
import { describe, expect, it } from "vitest";
import type { Context } from "../context.ts";
import { diff } from "./files.ts";

async function runDiff(answer: WorkspaceDiff, json = false) {
  const out: string[] = [];
  const err: string[] = [];
  const stream = (into: string[]) => Object.assign(new PassThrough(), { write: (s: string) => into.push(s) > 0, isTTY: false });
  const ctx = { client: { sessions: { diff: async () => answer } }, stdout: stream(out), stderr: stream(err) } as unknown as Context;
  const code = await diff(ctx, { values: { json }, positionals: ["ses_0123456789abcdef"], help: false });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("airlock diff", () => {
  it("says on stderr that a diff is incomplete, with the notes, keeping stdout a diff", async () => {
    const r = await runDiff({ diff: "diff --git a/x b/x\n+y\n", truncated: true, notes: ["incomplete: the diff was cut at 4194304 bytes"] });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("diff --git a/x b/x\n+y\n");
    expect(r.stderr).toContain("note: incomplete: the diff was cut at 4194304 bytes");
    expect(r.stderr).toContain("the diff is incomplete (truncated)");
  });

  it("says no changes only for a complete empty diff; --json prints the API's object", async () => {
    expect((await runDiff({ diff: "", truncated: false, notes: [] })).stderr).toBe("no changes\n");
    const cut = await runDiff({ diff: "", truncated: true, notes: ["incomplete: the diff's time bound (30 s) was reached; the files not reached count as unchanged"] });
    expect(cut.stderr).not.toContain("no changes");
    expect(cut.stderr).toContain("truncated");
    const json = await runDiff({ diff: "d", truncated: true, notes: ["n"] }, true);
    expect(JSON.parse(json.stdout)).toEqual({ diff: "d", truncated: true, notes: ["n"] });
  });
});
