/**
 * @module launch — an agent's launch as the registry describes it (paths on this host) turned into one that
 * runs in an E2B sandbox.
 *
 * Paths under this installation's node_modules point into the template's `/opt/airlock/node_modules` (the
 * same pinned packages); the packages they name are what a sandbox without the template installs at start.
 * Any other read-only path the agent needs (e.g. the bundled scripted agent) is uploaded to the same path in
 * the sandbox, so the command line stays as it is.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import { type AgentLaunch, badRequest } from "@airlock/protocol";
import { nodeModulesDir } from "./layout.ts";

export interface SandboxLaunch {
  argv: string[];
  env: Record<string, string>;
  /** npm packages (name@version) the agent needs in /opt/airlock/node_modules. */
  packages: string[];
  /** Host files to copy into the sandbox at the same absolute path. */
  uploads: Array<{ path: string; data: Buffer }>;
}

const maxUploadBytes = 64 * 1024 * 1024;
const maxUploadFiles = 2000;

export function translateLaunch(launch: AgentLaunch, hostNodeModules: string, pins: Record<string, string>): SandboxLaunch {
  if (launch.binds?.length) throw badRequest("an E2B sandbox cannot bind folders of the Airlock host");
  const prefix = hostNodeModules.replace(/\/$/, "") + "/";
  const map = (value: string) => (value.startsWith(prefix) ? nodeModulesDir + "/" + value.slice(prefix.length) : value);
  const packages = new Set<string>();
  const uploads: SandboxLaunch["uploads"] = [];
  let bytes = 0;
  for (const value of [...launch.argv, ...Object.values(launch.env)]) {
    const name = value.startsWith(prefix) ? packageOf(value.slice(prefix.length)) : null;
    if (name) packages.add(pins[name] ? `${name}@${pins[name]}` : name);
  }
  for (const path of launch.readOnlyPaths ?? []) {
    if (path + "/" === prefix || path.startsWith(prefix)) continue;
    for (const file of filesUnder(path)) {
      const data = readFileSync(file);
      bytes += data.length;
      if (bytes > maxUploadBytes || uploads.length >= maxUploadFiles) {
        throw badRequest(`the agent's files under ${path} are too large to upload into an E2B sandbox (over ${maxUploadBytes / 1024 / 1024} MB or ${maxUploadFiles} files); put them in the template instead`);
      }
      uploads.push({ path: file.split(sep).join("/"), data });
    }
  }
  return {
    argv: launch.argv.map(map),
    env: Object.fromEntries(Object.entries(launch.env).map(([k, v]) => [k, map(v)])),
    packages: [...packages].sort(),
    uploads,
  };
}

/** `@scope/name/dist/x.js` → `@scope/name`; `name/bin/x` → `name`. */
function packageOf(relative: string): string | null {
  const parts = relative.split("/");
  if (parts[0].startsWith("@")) return parts.length > 1 ? `${parts[0]}/${parts[1]}` : null;
  return parts[0] || null;
}

function filesUnder(path: string): string[] {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return [];
  if (st.isFile()) return [path];
  if (!st.isDirectory()) return [];
  const out: string[] = [];
  for (const name of readdirSync(path)) {
    if (name === "node_modules") continue;
    out.push(...filesUnder(join(path, name)));
  }
  return out;
}
