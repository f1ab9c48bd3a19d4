/**
 * @module main — the `airlock` command: run, attach to and steer agents on an Airlock server (AIRLOCK_URL,
 * AIRLOCK_API_KEY), plus the server's admin commands (`keys`, `serve`, `e2b`), which are handed to the server's
 * own code, loaded only when asked for.
 */
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { AirlockApiError } from "@airlock/client";
import { type CommandSpec, type Parsed, UsageError, helpText, parse } from "./args.ts";
import { answer, answerSpec } from "./commands/answer.ts";
import { diff, diffSpec, pull, pullSpec } from "./commands/files.ts";
import { attach, attachSpec, logs, logsSpec } from "./commands/log.ts";
import { prompt, promptSpec, run, runSpec } from "./commands/run.ts";
import { secrets, secretsSpec } from "./commands/secrets.ts";
import { agents, agentsSpec, cancel, cancelSpec, ls, lsSpec, rm, rmSpec, show, showSpec } from "./commands/sessions.ts";
import { type Context, processContext } from "./context.ts";
import { defaultUrl, explain } from "./env.ts";
import { exitCodes } from "./exit.ts";

type Handler = (ctx: Context, parsed: Parsed) => Promise<number>;

const commands: Array<[CommandSpec, Handler]> = [
  [runSpec, run],
  [attachSpec, attach],
  [lsSpec, ls],
  [showSpec, show],
  [promptSpec, prompt],
  [answerSpec, answer],
  [cancelSpec, cancel],
  [rmSpec, rm],
  [logsSpec, logs],
  [diffSpec, diff],
  [pullSpec, pull],
  [agentsSpec, agents],
  [secretsSpec, secrets],
];

const admin = [
  ["keys", "create, list and revoke API keys (on the server's host: works on its data folder)"],
  ["serve", "start an Airlock server (the same as `npm start`)"],
  ["e2b", "build the E2B template: airlock e2b template build"],
] as const;

function usage(): string {
  const width = Math.max(...commands.map(([s]) => s.name.length), ...admin.map(([n]) => n.length));
  return [
    "usage: airlock COMMAND [options]",
    "",
    "Run AI coding agents in sandboxes, and watch and steer them live.",
    "",
    "commands:",
    ...commands.map(([s]) => `  ${s.name.padEnd(width)}  ${s.summary}`),
    "",
    "server administration:",
    ...admin.map(([name, text]) => `  ${name.padEnd(width)}  ${text}`),
    "",
    `The server is AIRLOCK_URL (default ${defaultUrl}); AIRLOCK_API_KEY is sent when set.`,
    "`airlock COMMAND --help` tells more. Exit codes: 0 ok, 1 failed, 2 bad usage, 3 cancelled, 4 budget or limit,",
    "5 refused, 130 detached.",
    "",
  ].join("\n");
}

export async function main(argv: string[], ctx: Context = processContext()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    (name ? ctx.stdout : ctx.stderr).write(usage());
    return name ? exitCodes.ok : exitCodes.usage;
  }
  if (admin.some(([n]) => n === name)) {
    // The server's code (SQLite, providers) loads only for these: the rest of the CLI needs none of it.
    const { adminMain } = await import("@airlock/server/cli");
    return adminMain(argv);
  }
  const entry = commands.find(([spec]) => spec.name === name);
  try {
    if (!entry) throw new UsageError(`unknown command "${name}"`);
    const [spec, handler] = entry;
    const parsed = parse(spec, rest);
    if (parsed.help) {
      ctx.stdout.write(helpText(spec));
      return exitCodes.ok;
    }
    return await handler(ctx, parsed);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.stderr.write(`airlock: ${err.message}\n${err.command ? `see: airlock ${err.command} --help` : usage()}\n`);
      return exitCodes.usage;
    }
    ctx.stderr.write(`airlock: ${explain(err, ctx.env)}\n`);
    return AirlockApiError.is(err) && err.status === 400 ? exitCodes.usage : exitCodes.failed;
  }
}

/** Runs the CLI as the process: exits with the command's code once its output is written. */
export async function runAsProcess(argv: string[] = process.argv.slice(2)): Promise<void> {
  const code = await main(argv);
  // -1: a command that keeps running (`serve`).
  if (code >= 0) process.stdout.write("", () => process.exit(code));
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await runAsProcess();
