/**
 * The disk limit of a local sandbox, with a real relay and bubblewrap: writing past it stops the agent with an
 * exit record of reason disk_limit, and the sandbox does not start again until space is freed.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { JournalRecord, SandboxHandle } from "@airlock/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestProvider, configOf, echoAgent, newId, node, runInside, spec, testProvider, waitUntil } from "./test-support.ts";

const t: TestProvider = testProvider({ resources: { diskMb: 20 }, diskCheckIntervalMs: 200 });
let handle: SandboxHandle;

beforeAll(async () => {
  handle = await t.provider.create(spec(newId()));
});
afterAll(async () => {
  await handle?.destroy();
  t.cleanup();
});

const journal = (): JournalRecord[] =>
  readFileSync(join(handle.ref.data.dir as string, "relay", "journal.ndjson"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe("local sandbox disk limit", () => {
  it("passes the limit to the relay", async () => {
    await handle.startSandboxd(echoAgent, "tok");
    expect(configOf(handle).diskLimit).toMatchObject({ bytes: 20 * 1024 * 1024, intervalMs: 200 });
  });

  it("stops the agent once the workspace holds more than the limit, saying disk_limit", async () => {
    const write = runInside(configOf(handle), node("require('fs').writeFileSync('/workspace/big', Buffer.alloc(30 * 1024 * 1024, 1)); console.log('written')"));
    expect(write.stdout.trim()).toBe("written");
    await waitUntil(() => journal().some((r) => r.kind === "exit"), 10_000, "the agent's exit record");
    const exit = journal().find((r) => r.kind === "exit")!;
    expect(exit).toMatchObject({ kind: "exit", requested: false, reason: "disk_limit", detail: expect.stringMatching(/over its limit of 20 MiB/) });
  });

  it("refuses to start the agent again until space is freed", async () => {
    await expect(handle.startSandboxd(echoAgent, "tok2")).rejects.toMatchObject({ code: "conflict", message: expect.stringMatching(/over its limit of 20 MiB/) });
    rmSync(join(handle.ref.data.dir as string, "workspace", "big"));
    await handle.startSandboxd(echoAgent, "tok3");
    expect(journal().at(-1)).toMatchObject({ kind: "started" });
  });
});
