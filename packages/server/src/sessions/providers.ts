/**
 * @module providers — the sandbox providers this control plane can use, by name, and those it knows of but
 * cannot use as configured (E2B without `E2B_API_KEY`), with why and what to do: someone who read about a
 * provider learns how to turn it on from the API itself (`GET /v1/providers`, `/healthz`, the 400 that names it).
 */
import { type ProviderView, type SandboxProviderV1, badRequest } from "@airlock/protocol";

/** A provider Airlock has, which this server's configuration does not turn on. */
export interface UnconfiguredProvider {
  name: string;
  reason: string;
  fix: string;
}


export class ProviderRegistry {
  private readonly providers = new Map<string, SandboxProviderV1>();
  private readonly unconfigured = new Map<string, UnconfiguredProvider>();

  constructor(
    providers: SandboxProviderV1[],
    readonly defaultName: string,
    unconfigured: UnconfiguredProvider[] = [],
  ) {
    for (const p of providers) this.providers.set(p.name, p);
    for (const u of unconfigured) if (!this.providers.has(u.name)) this.unconfigured.set(u.name, u);
  }

  get(name: string): SandboxProviderV1 | undefined {
    return this.providers.get(name);
  }

  require(name: string): SandboxProviderV1 {
    const p = this.providers.get(name);
    if (p) return p;
    const off = this.unconfigured.get(name);
    if (off) throw badRequest(`provider "${name}" is not configured on this server: ${off.reason}. Fix: ${off.fix}`, { provider: name, reason: off.reason, fix: off.fix });
    const others = [...this.unconfigured.keys()].map((n) => `${n} (not configured)`);
    throw badRequest(`unknown provider "${name}"; the providers are: ${[...this.names(), ...others].join(", ")}`);
  }

  /** The providers that can make sandboxes now. */
  names(): string[] {
    return [...this.providers.keys()];
  }

  all(): SandboxProviderV1[] {
    return [...this.providers.values()];
  }

  /** Every provider, configured or not, for `GET /v1/providers` and `/healthz`. */
  list(): ProviderView[] {
    const on: ProviderView[] = this.all().map((p) => ({ name: p.name, configured: true, default: p.name === this.defaultName, capabilities: p.capabilities }));
    const off: ProviderView[] = [...this.unconfigured.values()].map((u) => ({ configured: false, ...u }));
    return [...on, ...off];
  }
}
