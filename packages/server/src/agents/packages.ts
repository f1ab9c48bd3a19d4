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

/** The gateway can call its Anthropic upstream: a key, or an upstream of the operator's own. */
export const llmCredentials = (config: { anthropicApiKey: string | null; anthropicBaseUrl: string }) =>
  Boolean(config.anthropicApiKey) || !config.anthropicBaseUrl.includes("api.anthropic.com");

/** The same for its OpenAI upstream. */
export const openaiCredentials = (config: { openaiApiKey: string | null; openaiBaseUrl: string }) =>
  Boolean(config.openaiApiKey) || !config.openaiBaseUrl.includes("api.openai.com");

/** The same for its Gemini upstream. */
export const geminiCredentials = (config: { geminiApiKey: string | null; geminiBaseUrl: string }) =>
  Boolean(config.geminiApiKey) || !config.geminiBaseUrl.includes("generativelanguage.googleapis.com");
