import { openSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalError } from "./local-error.ts";

describe("file-system errors as the agent sees them", () => {
  it("name the agent's path and the reason, never the host path", () => {
    const host = join(tmpdir(), "n".repeat(300));
    let thrown: unknown;
    try {
      openSync(host, "r");
    } catch (err) {
      thrown = err;
    }
    expect((thrown as Error).message).toContain(tmpdir());
    const error = LocalError.fromFs(thrown, "/workspace/long-name");
    expect(error.message).toBe("/workspace/long-name: ENAMETOOLONG: name too long");
    expect(error.message).not.toContain(tmpdir());
  });
});
