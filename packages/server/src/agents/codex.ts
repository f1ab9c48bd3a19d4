/**
 * @module codex — OpenAI's Codex through `@zed-industries/codex-acp`. Airlock's gateway does not speak the
 * OpenAI API yet, so Codex needs its key in the sandbox: only when the operator opts in.
 */
import type { AgentDefinition } from "./registry.ts";
import { installed, nodeModules, pathOf } from "./packages.ts";

const entry = "@zed-industries/codex-acp/bin/codex-acp.js";
/**
 * Codex's approval presets, which codex-acp offers as ACP modes: "read-only" asks before any edit or command,
 * "auto" edits the workspace and runs commands in Codex's own sandbox, "full-access" never asks. (Ids read from
 * the pinned binary; not exercised offline, since Codex needs OpenAI's API.)
 */
const modes = { ask: "read-only", acceptEdits: "auto", auto: "full-access" } as const;

export const codex: AgentDefinition = {
  name: "codex",
  title: "Codex",
  description: "OpenAI's Codex through its ACP adapter. Its OpenAI key is passed into the sandbox (operator opt-in).",
  availability(config) {
    if (!installed(entry)) return { available: false, reason: "not installed", fix: "run `npm ci` (it installs @zed-industries/codex-acp)" };
    if (!process.env.OPENAI_API_KEY) return { available: false, reason: "no credentials: OPENAI_API_KEY is not set", fix: "set OPENAI_API_KEY and AIRLOCK_PASS_REAL_KEY=1, then restart Airlock" };
    if (!config.passRealKey) return { available: false, reason: "its OpenAI key would have to enter the sandbox", fix: "set AIRLOCK_PASS_REAL_KEY=1 to allow it (Airlock logs a warning)" };
    return { available: true };
  },
  launch({ options }) {
    return {
      argv: ["node", pathOf(entry)],
      env: { OPENAI_API_KEY: process.env.OPENAI_API_KEY ?? "", CODEX_HOME: "/home/agent/.codex", LANG: "C.UTF-8", ...options.env },
      readOnlyPaths: [nodeModules],
      // Its config lives in the sandbox's private home, where its session files go too (session/load).
      homeFiles: { ".codex/config.toml": [`check_for_update_on_startup = false`, ...(options.model ? [`model = ${JSON.stringify(options.model)}`] : [])].join("\n") + "\n" },
    };
  },
  sessionSetup({ options }, acpSessionId) {
    return [{ method: "session/set_mode", params: { sessionId: acpSessionId, modeId: modes[options.permissionMode] } }];
  },
};
