/**
 * @module packages — where the agent programs installed by `npm ci` live, to launch them and to show them
 * read-only inside the local sandbox.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const nodeModules = fileURLToPath(new URL("../../../../node_modules", import.meta.url));
export const installed = (relative: string) => existsSync(join(nodeModules, relative));
export const pathOf = (relative: string) => join(nodeModules, relative);

export const llmCredentials = (config: { anthropicApiKey: string | null; anthropicBaseUrl: string }) =>
  Boolean(config.anthropicApiKey) || !config.anthropicBaseUrl.includes("api.anthropic.com");
