import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "bench/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start real sandboxes and servers; two cores cannot run many files at once.
    fileParallelism: true,
    maxWorkers: 2,
    // One more try for a failed test: on a shared 2-core machine a real-process test can lose a race with the
    // load (seen: an E2B timeout test, a crash-restart loop). A real failure fails twice; a retried pass is
    // reported as flaky by vitest, and those are the ones to make deterministic.
    retry: 1,
  },
});
