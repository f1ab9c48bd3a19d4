/**
 * @module services — the view of a session's setup services: what the session was created with, merged with
 * what its running relay reports (pure, so the merge is tested alone).
 */
import type { ServiceList, ServiceView, SessionRecord } from "@airlock/protocol";
import type { SandboxdService } from "@airlock/sandboxd";

/** What a running relay says; undefined when no relay runs for the session (the services are stopped too). */
export interface RelayServices {
  services: SandboxdService[];
  setupDone: boolean | null;
}

export function serviceList(session: SessionRecord, relay: RelayServices | null | undefined): ServiceList {
  const setup = session.options.setup;
  const live = new Map((relay?.services ?? []).map((s) => [s.name, s]));
  const services = (setup?.services ?? []).map((spec): ServiceView => {
    const s = live.get(spec.name);
    return {
      name: spec.name,
      command: spec.command,
      readyPort: spec.readyPort ?? null,
      readyPath: spec.readyPath ?? null,
      status: s && s.starts > 0 ? s.status : "stopped",
      exitCode: s?.exitCode ?? null,
      signal: s?.signal ?? null,
      startedAt: s?.startedAt ? new Date(s.startedAt).toISOString() : null,
      starts: s?.starts ?? 0,
    };
  });
  return { services, setup: { commands: setup?.commands?.length ?? 0, done: relay?.setupDone ?? null } };
}
