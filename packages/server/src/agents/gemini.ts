/**
 * @module gemini — Google's Gemini CLI in ACP mode (`--experimental-acp`). Airlock's gateway does not speak
 * Google's API yet, so Gemini needs its key in the sandbox: only when the operator opts in.
 */
import type { AgentDefinition } from "./registry.ts";
import { installed, nodeModules, pathOf } from "./packages.ts";

const entry = "@google/gemini-cli/bundle/gemini.js";
/** Gemini CLI's approval modes as its ACP mode ids (from the pinned bundle's `buildAvailableModes`). */
const modes = { ask: "default", acceptEdits: "autoEdit", auto: "yolo" } as const;

export const gemini: AgentDefinition = {
  name: "gemini",
  title: "Gemini CLI",
  description: "Google's Gemini CLI in ACP mode. Its Gemini key is passed into the sandbox (operator opt-in).",
  availability(config) {
    if (!installed(entry)) return { available: false, reason: "not installed", fix: "run `npm ci` (it installs @google/gemini-cli)" };
    if (!process.env.GEMINI_API_KEY) return { available: false, reason: "no credentials: GEMINI_API_KEY is not set", fix: "set GEMINI_API_KEY and AIRLOCK_PASS_REAL_KEY=1, then restart Airlock" };
    if (!config.passRealKey) return { available: false, reason: "its Gemini key would have to enter the sandbox", fix: "set AIRLOCK_PASS_REAL_KEY=1 to allow it (Airlock logs a warning)" };
    return { available: true };
  },
  launch({ options }) {
    return {
      argv: ["node", pathOf(entry), "--experimental-acp", ...(options.model ? ["--model", options.model] : [])],
      env: { GEMINI_API_KEY: process.env.GEMINI_API_KEY ?? "", LANG: "C.UTF-8", ...options.env },
      readOnlyPaths: [nodeModules],
    };
  },
  sessionSetup({ options }, acpSessionId) {
    return [{ method: "session/set_mode", params: { sessionId: acpSessionId, modeId: modes[options.permissionMode] } }];
  },
};
