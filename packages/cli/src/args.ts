/**
 * @module args — each command's options, help text and parsing (node's `parseArgs`), so every command has
 * `--help` and a mistake in its arguments is exit code 2 with a message that says what to type instead.
 */
import { parseArgs } from "node:util";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** The value's placeholder in the help (`DIR`, `SEQ`). */
  value?: string;
  description: string;
  multiple?: boolean;
}

export interface CommandSpec {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** What follows `airlock NAME` in the usage line, e.g. `[options] TASK`. */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Paragraphs after the options: examples, what the exit codes mean for this command. */
  details?: string;
}

/** Bad usage: printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

export function parse(spec: CommandSpec, argv: string[]): Parsed {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = { help: { type: "boolean", short: "h" } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as Parsed["values"], positionals, help: values.help === true };
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(message, spec.name);
  }
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`, o.description]);
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([left]) => left.length));
  const lines = [`usage: airlock ${spec.name} ${spec.usage}`.trimEnd(), "", spec.summary, "", "options:", ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`)];
  if (spec.details) lines.push("", spec.details.trim());
  return `${lines.join("\n")}\n`;
}

/** A string option, or undefined. */
export const str = (p: Parsed, name: string): string | undefined => (typeof p.values[name] === "string" ? (p.values[name] as string) : undefined);

/** A non-negative integer option (e.g. a seq), or undefined; anything else is a usage error. */
export function int(p: Parsed, name: string, command: string): number | undefined {
  const raw = str(p, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new UsageError(`--${name} must be a non-negative integer, not "${raw}"`, command);
  return Number(raw);
}

/** One of `allowed`, or undefined. */
export function oneOf<T extends string>(p: Parsed, name: string, allowed: readonly T[], command: string): T | undefined {
  const raw = str(p, name);
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, not "${raw}"`, command);
  return raw as T;
}

/** The session id positional, checked for shape so a typo is a usage error rather than a 404. */
export function sessionId(p: Parsed, command: string, index = 0): string {
  const id = p.positionals[index];
  if (!id) throw new UsageError("give the session id (see `airlock ls`)", command);
  if (!/^ses_[0-9a-f]{14,40}$/.test(id)) throw new UsageError(`"${id}" is not a session id (they look like ses_0193a…; see \`airlock ls\`)`, command);
  return id;
}
