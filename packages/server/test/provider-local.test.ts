/**
 * The provider contract on the local (bubblewrap) provider: with the shared host relay (the default), and with a
 * relay process per sandbox.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sandboxdPath } from "@airlock/sandboxd";
import { describeProviderConformance } from "@airlock/testkit";
import { createLocalProvider } from "../src/providers/local/index.ts";

for (const sharedRelay of [true, false]) describeProviderConformance(sharedRelay ? "local" : "local, a relay process per sandbox", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "airlock-conformance-local-"));
  const make = (relay = sandboxdPath) => createLocalProvider({ dataDir, sandboxdPath: relay, installationId: "conformance", sharedRelay });
  const dirOf = (id: string) => join(dataDir, "sandboxes", id);
  return {
    provider: () => make(),
    broken: () => make(join(dataDir, "no-such-relay.js")),
    async leftovers(ref) {
      const left: string[] = [];
      if (existsSync(dirOf(ref.id))) left.push(`files at ${dirOf(ref.id)}`);
      for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        try {
          if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dirOf(ref.id))) left.push(`process ${pid}`);
        } catch {}
      }
      return left;
    },
    secretPath: (ref) => join(dirOf(ref.id), "relay", "config.json"),
    close: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
});
