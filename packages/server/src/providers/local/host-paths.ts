/**
 * @module host-paths — keeps the host's layout out of what a local sandbox's failures say.
 *
 * A file-system error names the path it failed on (`ENAMETOOLONG: name too long, lstat
 * '/srv/airlock/sandboxes/ses_…/workspace/…'`), and such messages travel on: into a session's status reason,
 * its events, API answers. Where the data folder is, and how sandboxes sit in it, is none of an API client's
 * business (nor an agent's). So every error leaving the provider is told in the paths the user knows: the
 * workspace's own, relative to it, and the agent's home as `~`.
 */
import { realpathSync } from "node:fs";
import { AirlockError, type SandboxHandle, type SandboxProviderV1 } from "@airlock/protocol";

/** How the local provider lays out its folders (see index.ts). */
export interface HostLayout {
  dataDir: string;
  sandboxesDir: string;
}

/** What ends a path inside a message: Node quotes its paths; other messages end them with a space or a comma. */
const pathRest = `(/[^\\s'",]*)?(?![^/\\s'",])`;

/** `text` with every host path of the layout replaced by what the user knows it as. */
export function hideHostPaths(text: string, layout: HostLayout): string {
  let out = text;
  for (const { dataDir, sandboxesDir } of variants(layout)) {
    const sandbox = `${escape(sandboxesDir)}/[^/\\s'",]+`;
    out = out
      .replace(new RegExp(`${sandbox}/workspace${pathRest}`, "g"), (_, rest?: string) => (rest ? rest.slice(1) || "." : "the workspace"))
      .replace(new RegExp(`${sandbox}/home${pathRest}`, "g"), (_, rest?: string) => `~${rest ?? ""}`)
      .replace(new RegExp(`${sandbox}${pathRest}`, "g"), "the sandbox's own files")
      .replace(new RegExp(`${escape(dataDir)}${pathRest}`, "g"), "Airlock's data folder");
  }
  return out;
}

/** The layout as given and with its links resolved (a message may name either). */
function variants(layout: HostLayout): HostLayout[] {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  const resolved = { dataDir: real(layout.dataDir), sandboxesDir: real(layout.sandboxesDir) };
  return resolved.dataDir === layout.dataDir && resolved.sandboxesDir === layout.sandboxesDir ? [layout] : [layout, resolved];
}

/** The error, its message told without host paths (an AirlockError keeps its code and so its status). */
export function withoutHostPaths(err: unknown, layout: HostLayout): unknown {
  if (!(err instanceof Error)) return err;
  const message = hideHostPaths(err.message, layout);
  if (message === err.message) return err;
  if (AirlockError.is(err)) return new AirlockError(err.code, message, err.details, { cause: err });
  // Node's own errors carry the path in `path` too, and their stack names it: a fresh error says only the message.
  const plain = new Error(message, { cause: undefined });
  plain.name = err.name;
  return plain;
}

/** The provider, with every failure of it and of its sandboxes (their handles) told without host paths. */
export function hidingHostPaths(provider: SandboxProviderV1, layout: HostLayout): SandboxProviderV1 {
  const handleOf = (handle: SandboxHandle | null) => handle && guarded(handle, layout);
  return guarded(provider, layout, (method, result) => (method === "create" || method === "connect" ? handleOf(result as SandboxHandle | null) : result));
}

/** `target` whose methods throw (or reject with) errors told without host paths; `then` maps what they resolve to. */
function guarded<T extends object>(target: T, layout: HostLayout, then: (method: string | symbol, result: unknown) => unknown = (_, r) => r): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(obj, args);
        } catch (err) {
          throw withoutHostPaths(err, layout);
        }
        if (!(result instanceof Promise)) return result;
        return result.then(
          (r) => then(prop, r),
          (err) => {
            throw withoutHostPaths(err, layout);
          },
        );
      };
    },
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
