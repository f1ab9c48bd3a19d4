/**
 * The provider contract on the E2B provider, with the real SDK against the test kit's fake E2B (sandboxes
 * that really run sandboxd and the scripted agent).
 */
import { existsSync } from "node:fs";
import { describe } from "vitest";
import { sandboxdPath } from "@airlock/sandboxd";
import { type FakeE2B, describeProviderConformance, startFakeE2B } from "@airlock/testkit";
import { nodeModules } from "../src/agents/packages.ts";
import { createE2bProvider } from "../src/providers/e2b/index.ts";
import { nodeModulesDir, prepareScript, relayDir } from "../src/providers/e2b/layout.ts";

const canRun = process.getuid?.() === 0;

if (canRun) {
  describeProviderConformance("e2b (fake E2B)", async () => {
    const fake: FakeE2B = await startFakeE2B({ templates: { airlock: { binds: [{ host: nodeModules, sandbox: nodeModulesDir }], setup: prepareScript } } });
    const make = (apiKey = fake.apiKey) =>
      createE2bProvider({
        connection: { apiKey, apiUrl: fake.apiUrl, sandboxUrl: fake.sandboxUrl },
        installationId: "conformance",
        sandboxdPath,
        hostNodeModules: nodeModules,
        publicUrl: "http://127.0.0.1:9",
        timeoutMs: 60_000,
      });
    return {
      provider: () => make(),
      broken: () => make("e2b_wrong_key"),
      async leftovers(ref) {
        const s = fake.sandbox(ref.id);
        if (!s) return [];
        const left: string[] = [];
        if (s.state !== "killed") left.push(`sandbox is ${s.state}`);
        if (s.processCount > 0) left.push(`${s.processCount} processes`);
        if (existsSync(s.root)) left.push(`files at ${s.root}`);
        return left;
      },
      isPaused: async (ref) => fake.sandbox(ref.id)?.state === "paused",
      expire: (ref) => fake.expire(ref.id),
      secretPath: () => `${relayDir}/config.json`,
      close: () => fake.close(),
    };
  });
} else {
  describe.skip("provider conformance: e2b (fake E2B) needs root to run sandbox processes as their users", () => {});
}
