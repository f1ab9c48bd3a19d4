/**
 * @module providers — the sandbox providers this control plane can use, by name.
 */
import { type SandboxProviderV1, badRequest } from "@airlock/protocol";

export class ProviderRegistry {
  private readonly providers = new Map<string, SandboxProviderV1>();
  constructor(
    providers: SandboxProviderV1[],
    readonly defaultName: string,
  ) {
    for (const p of providers) this.providers.set(p.name, p);
  }

  get(name: string): SandboxProviderV1 | undefined {
    return this.providers.get(name);
  }

  require(name: string): SandboxProviderV1 {
    const p = this.providers.get(name);
    if (!p) throw badRequest(`unknown provider "${name}"; configured providers: ${this.names().join(", ")}`);
    return p;
  }

  names(): string[] {
    return [...this.providers.keys()];
  }

  all(): SandboxProviderV1[] {
    return [...this.providers.values()];
  }
}
