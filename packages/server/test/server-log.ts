/**
 * What the test server saw, shown when a test fails: half the story of a failure in a real-process test.
 * (Apart from harness.ts, which scripts outside vitest use too.)
 */
import { beforeEach } from "vitest";
import type { TestServer } from "./harness.ts";

/** Prints the tail of the current test server's log when a test of the file fails. */
export function showServerLogOnFailure(current: () => TestServer | null | undefined): void {
  beforeEach((context) => {
    context.onTestFailed(() => {
      const server = current();
      if (server) console.error(`[test server ${server.dataDir}] last output:\n${server.log().slice(-6000)}`);
    });
  });
}
