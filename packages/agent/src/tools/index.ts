/**
 * @module tools — the agent's tools, all confined to the session's workspace.
 */
import type { AgentConfig } from "../config.ts";
import { editFileTool, readFileTool, writeFileTool } from "./files.ts";
import { listFilesTool, searchTool } from "./find.ts";
import { runTools } from "./run.ts";
import type { Tool } from "./tool.ts";

export { Commands } from "./commands.ts";
export { type Tool, type ToolContext, type ToolOutcome, ToolError, ToolRejected, apiToolOf, clip } from "./tool.ts";
export { Workspace } from "./workspace.ts";

export function allTools(config: AgentConfig): Tool[] {
  return [readFileTool, writeFileTool, editFileTool, listFilesTool, searchTool, ...runTools(config)];
}
