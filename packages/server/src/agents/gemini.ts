/**
 * @module gemini — Google's Gemini CLI in ACP mode (`--experimental-acp`), pointed at the gateway's Gemini API
 * through its own "gateway" mode (`GOOGLE_GEMINI_BASE_URL`, the session's token as its key): no Google key
 * in the sandbox.
 */
import type { AgentDefinition } from "./registry.ts";
import { geminiCredentials, installed, nodeModules, pathOf } from "./packages.ts";

const entry = "@google/gemini-cli/bundle/gemini.js";
/** Gemini CLI's approval modes as its ACP mode ids (from the pinned bundle's `buildAvailableModes`). */
const modes = { ask: "default", acceptEdits: "autoEdit", auto: "yolo" } as const;
/** No telemetry, no update checks: the sandbox has no network, and the user did not ask for them. */
const settings = {
  general: { disableAutoUpdate: true, disableUpdateNag: true },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
};

export const gemini: AgentDefinition = {
  name: "gemini",
  title: "Gemini CLI",
  description: "Google's Gemini CLI in ACP mode; calls the LLM through Airlock's metering gateway.",
  usesGateway: true,
  upstream: "gemini",
  // Gemini CLI takes an `fs/read_text_file` error for a missing file as a failure (its ACP connection rejects
  // with the bare JSON-RPC error object, which its ENOENT check does not recognise), so it could never create
  // a file through the client: it works on the sandbox's workspace directly instead.
  clientCapabilities: { fs: { readTextFile: false, writeTextFile: false } },
  mcp: { stdio: true, http: true, sse: true },
  availability(config, tenant) {
    if (!installed(entry)) return { available: false, reason: "not installed", fix: "run `npm ci` (it installs @google/gemini-cli)" };
    if (!geminiCredentials(config) && !tenant?.has("gemini")) return { available: false, reason: "no LLM credentials", fix: "set GEMINI_API_KEY (or GOOGLE_GEMINI_BASE_URL for a Gemini-compatible upstream) and restart Airlock, or store the tenant's own key as a secret (PUT /v1/secrets/GEMINI_API_KEY)" };
    return { available: true };
  },
  launch({ options, gateway }) {
    const api = gateway?.gemini;
    return {
      argv: ["node", pathOf(entry), "--experimental-acp", ...(options.model ? ["--model", options.model] : [])],
      env: { ...(api ? { GOOGLE_GEMINI_BASE_URL: api.baseUrl, GEMINI_API_KEY: api.token } : {}), LANG: "C.UTF-8", ...options.env },
      readOnlyPaths: [nodeModules],
      homeFiles: { ".gemini/settings.json": JSON.stringify(settings, null, 2) },
    };
  },
  sessionSetup({ options }, acpSessionId) {
    return [{ method: "session/set_mode", params: { sessionId: acpSessionId, modeId: modes[options.permissionMode] } }];
  },
};
