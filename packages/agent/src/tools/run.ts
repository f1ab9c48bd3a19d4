/**
 * @module run — `run_command` (a shell line in the workspace) and `execute_code` (a JavaScript or Python
 * snippet, for the interpreters this sandbox has). Output streams while they run; each has a timeout.
 */
import type { ToolCallContent } from "@agentclientprotocol/sdk";
import { z } from "zod";
import type { AgentConfig } from "../config.ts";
import { type CommandResult, describeResult } from "./commands.ts";
import { type Tool, type ToolContext, ToolError, defineTool } from "./tool.ts";
import { which } from "./walk.ts";

const maxOutputChars = 30_000;
/** Fits one argv string (Linux allows 128 KiB). */
const maxCodeBytes = 100 * 1024;

export function runTools(config: AgentConfig): Tool[] {
  const timeout = z
    .number()
    .int()
    .min(1)
    .max(config.maxCommandTimeoutSec)
    .optional()
    .describe(`Seconds before it is killed (default ${config.commandTimeoutSec}, at most ${config.maxCommandTimeoutSec})`);

  const runCommand = defineTool({
    name: "run_command",
    description:
      "Run a shell command (`sh -c`) in the workspace, or in `cwd` inside it. Answers its output (stdout and stderr together) and exit code. " +
      "Commands run without a terminal and without input; use non-interactive flags. Long-running servers must not be started in the foreground.",
    input: z.object({
      command: z.string().min(1).describe("The shell command line"),
      cwd: z.string().optional().describe("Working folder, relative to the workspace"),
      timeout_sec: timeout,
    }),
    kind: "execute",
    needs: "execute",
    title: (i) => `Run \`${i.command.length > 80 ? `${i.command.slice(0, 80)}…` : i.command}\``,
    async run(input, ctx) {
      await ctx.permit();
      return execute(ctx, "sh", ["-c", input.command], input.cwd, (input.timeout_sec ?? config.commandTimeoutSec) * 1000);
    },
  });

  const interpreters = {
    javascript: which("node") ?? (process.execPath || null),
    python: which("python3") ?? which("python"),
  };
  const languages = (Object.keys(interpreters) as Array<keyof typeof interpreters>).filter((l) => interpreters[l]);
  const executeCode = defineTool({
    name: "execute_code",
    description:
      `Run a short snippet of code and answer what it printed. Languages here: ${languages.join(", ") || "none"}. ` +
      "It runs in the workspace folder, like a script there; print what you want to see.",
    input: z.object({
      language: z.enum(["javascript", "python"]),
      code: z.string().min(1),
      timeout_sec: timeout,
    }),
    kind: "execute",
    needs: "execute",
    title: (i) => `Run ${i.language === "python" ? "Python" : "JavaScript"} (${i.code.split("\n").length} lines)`,
    async run(input, ctx) {
      const program = interpreters[input.language];
      if (!program) throw new ToolError(`there is no ${input.language} interpreter in this sandbox; the languages here are: ${languages.join(", ") || "none"}`);
      if (Buffer.byteLength(input.code) > maxCodeBytes) throw new ToolError(`the snippet is over ${maxCodeBytes / 1024} KB; write it to a file and run it with run_command`);
      await ctx.permit([{ type: "content", content: { type: "text", text: `\`\`\`${input.language}\n${input.code}\n\`\`\`` } }]);
      const name = program.slice(program.lastIndexOf("/") + 1);
      return execute(ctx, name, [input.language === "python" ? "-c" : "-e", input.code], undefined, (input.timeout_sec ?? config.commandTimeoutSec) * 1000);
    },
  });

  return [runCommand, executeCode];
}

async function execute(ctx: ToolContext, command: string, args: string[], cwd: string | undefined, timeoutMs: number) {
  const dir = await ctx.ws.resolveReal(cwd ?? ".");
  const watched = await ctx.watchCommand?.();
  let shown: ToolCallContent[] = [];
  const result: CommandResult = await ctx.commands.run({
    command,
    args,
    cwd: dir,
    timeoutMs,
    signal: ctx.signal,
    started: async (content) => {
      shown = content;
      await ctx.update({ status: "in_progress", content });
    },
    progress: (output) => ctx.update({ content: [{ type: "content", content: { type: "text", text: fence(output.slice(-8000)) } }] }),
  });
  await watched?.();
  const output = describeResult(result, timeoutMs, maxOutputChars);
  const ok = result.exitCode === 0 && !result.timedOut && !result.cancelled;
  return {
    output,
    isError: !ok,
    // A client terminal already shows the output; else show it (the tail) as text.
    content: shown.length ? shown : [{ type: "content" as const, content: { type: "text" as const, text: fence(output.slice(-8000)) } }],
    rawOutput: { exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut, cancelled: result.cancelled },
  };
}

const fence = (text: string) => `\`\`\`\n${text.replace(/```/g, "``\u200b`")}\n\`\`\``;
