/**
 * @module orphans — sandboxes labelled by this installation that no session owns any more (left by a crash).
 */
import type { StoreV1 } from "@airlock/protocol";
import type { Logger } from "../log.ts";
import type { ProviderRegistry } from "./providers.ts";

export async function reapOrphans(providers: ProviderRegistry, store: StoreV1, installationId: string, log: Logger): Promise<void> {
  for (const provider of providers.all()) {
    const refs = await provider.list({ "airlock.installation": installationId });
    for (const ref of refs) {
      // A sandbox id need not be its session's id (E2B makes its own): the session label names it.
      const session = await store.getSession(ref.labels?.["airlock.session"] ?? ref.id);
      if (session?.sandbox && session.sandbox.id === ref.id && session.status !== "stopped") continue;
      if (session?.sandbox && session.status === "stopped") continue; // idle-stopped: kept for resume
      // Being made, maybe by another node on the same data folder: its ref is stored once the sandbox runs.
      if (session?.status === "provisioning") continue;
      log.info({ sandbox: ref.id, provider: provider.name }, "reaping an orphaned sandbox");
      await (await provider.connect(ref))?.destroy().catch((err) => log.warn({ err, sandbox: ref.id }, "could not reap"));
    }
  }
}
