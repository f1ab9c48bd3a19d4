/**
 * @module template — the Airlock E2B template, defined in code with the SDK's `Template` builder:
 * Node 20, git, ripgrep, the pinned agent packages in /opt/airlock/node_modules, sandboxd, and the non-root
 * `agent` user. `airlock e2b template build` builds it; sandboxes made from it start in seconds, while
 * sessions without it start from E2B's `base` image and install what they need at start.
 */
import { readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { type BuildInfo, Template, type TemplateBuilder } from "e2b";
import { defaultTemplate, optDir, prepareScript, sandboxdFile, shellQuote } from "./layout.ts";

/** The agent programs Airlock can run, installed in the template at the versions this server pins. */
export const agentPackages = ["@agentclientprotocol/claude-agent-acp", "opencode-ai", "@zed-industries/codex-acp", "@google/gemini-cli"];

/** name → version, from this server's package.json (the same pins `npm ci` installs here). */
export function pinnedVersions(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../../../package.json", import.meta.url)), "utf8")) as { dependencies: Record<string, string> };
  return Object.fromEntries(agentPackages.filter((name) => pkg.dependencies[name]).map((name) => [name, pkg.dependencies[name]]));
}

export function airlockTemplate(options: { sandboxdPath: string; pins?: Record<string, string> }): TemplateBuilder {
  const pins = options.pins ?? pinnedVersions();
  const packages = Object.entries(pins).map(([name, version]) => shellQuote(`${name}@${version}`));
  return Template({ fileContextPath: dirname(options.sandboxdPath) })
    .fromNodeImage("20")
    .aptInstall(["git", "ripgrep", "ca-certificates", "util-linux"], { noInstallRecommends: true })
    .runCmd(`bash -c ${shellQuote(prepareScript.trim().split("\n").join("; "))}`, { user: "root" })
    .copy(basename(options.sandboxdPath), sandboxdFile, { user: "root", mode: 0o644 })
    .runCmd(`cd ${optDir} && npm init -y >/dev/null && npm install --no-audit --no-fund --omit=dev ${packages.join(" ")}`, { user: "root" });
}

export interface BuildTemplateOptions {
  name?: string;
  sandboxdPath: string;
  connection: { apiKey?: string; apiUrl?: string; domain?: string };
  cpuCount?: number;
  memoryMB?: number;
  onLog?: (line: string) => void;
}

export async function buildTemplate(options: BuildTemplateOptions): Promise<BuildInfo> {
  const template = airlockTemplate({ sandboxdPath: options.sandboxdPath });
  return Template.build(template, options.name ?? defaultTemplate, {
    ...options.connection,
    cpuCount: options.cpuCount ?? 2,
    memoryMB: options.memoryMB ?? 2048,
    onBuildLogs: (entry) => options.onLog?.(entry.toString()),
  });
}
