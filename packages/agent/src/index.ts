/**
 * @module agent — Airlock's built-in coding agent, for running in-process (tests, embedding); the program is
 * `main.ts`, bundled to `dist/airlock-agent.mjs`.
 */
export { createAgent } from "./agent.ts";
export { type AgentConfig, defaultModel, defaultReviewModel, readConfig } from "./config.ts";
export { projectContext } from "./context.ts";
export { applyEdit } from "./tools/files.ts";
export { globToRegExp, ripgrep, scan } from "./tools/find.ts";
