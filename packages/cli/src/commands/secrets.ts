/**
 * @module secrets — `airlock secrets set|ls|rm`: the tenant's secrets. A value is read from standard input or
 * from an environment variable (`--from-env`), never from the command line, where other users of the host can
 * see it (`ps`).
 */
import { type CommandSpec, type Parsed, UsageError, str } from "../args.ts";
import type { Context } from "../context.ts";
import { exitCodes } from "../exit.ts";

export const secretsSpec: CommandSpec = {
  name: "secrets",
  summary: "Set, list and remove the tenant's secrets (values are write-only).",
  usage: "set NAME [--from-env VAR] | ls | rm NAME",
  options: {
    "from-env": { type: "string", value: "VAR", description: "set: the value is this environment variable's (else standard input is read)" },
    json: { type: "boolean", description: "ls: NDJSON, one secret per line" },
  },
  details: `Examples:
  printf %s "$GITHUB_TOKEN" | airlock secrets set GITHUB_TOKEN
  airlock secrets set ANTHROPIC_API_KEY --from-env MY_KEY     the tenant's own LLM key, used by the gateway
  airlock run --secret-env GH_TOKEN=GITHUB_TOKEN "open a PR"   the agent gets GH_TOKEN from the secret
  airlock secrets ls
  airlock secrets rm GITHUB_TOKEN`,
};

export async function secrets(ctx: Context, p: Parsed): Promise<number> {
  const [action, name, ...extra] = p.positionals;
  if (extra.length) throw new UsageError(`unexpected "${extra[0]}"`, "secrets");
  switch (action) {
    case "set": {
      if (!name) throw new UsageError("give the secret's NAME: airlock secrets set NAME", "secrets");
      const value = await valueOf(ctx, p);
      const secret = await ctx.client.secrets.put(name, value);
      ctx.stdout.write(`${secret.createdAt === secret.updatedAt ? "created" : "replaced"} ${secret.name}\n`);
      return exitCodes.ok;
    }
    case "ls":
    case "list": {
      const list = await ctx.client.secrets.list();
      if (p.values.json) for (const s of list) ctx.stdout.write(`${JSON.stringify(s)}\n`);
      else if (list.length === 0) ctx.stdout.write("no secrets yet; add one with: airlock secrets set NAME\n");
      else {
        const width = Math.max(4, ...list.map((s) => s.name.length));
        ctx.stdout.write(`${"NAME".padEnd(width)}  UPDATED\n${list.map((s) => `${s.name.padEnd(width)}  ${s.updatedAt}`).join("\n")}\n`);
      }
      return exitCodes.ok;
    }
    case "rm":
    case "delete": {
      if (!name) throw new UsageError("give the secret's NAME: airlock secrets rm NAME", "secrets");
      await ctx.client.secrets.delete(name);
      ctx.stdout.write(`removed ${name}\n`);
      return exitCodes.ok;
    }
    default:
      throw new UsageError(action ? `unknown action "${action}"; use set, ls or rm` : "give an action: set, ls or rm", "secrets");
  }
}

async function valueOf(ctx: Context, p: Parsed): Promise<string> {
  const variable = str(p, "from-env");
  if (variable !== undefined) {
    const value = process.env[variable];
    if (!value) throw new UsageError(`the environment variable ${variable} is not set (or empty)`, "secrets");
    return value;
  }
  if (ctx.stdin.isTTY) throw new UsageError("pipe the value into standard input, or give --from-env VAR", "secrets");
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.stdin) chunks.push(Buffer.from(chunk));
  // One trailing newline is what `echo` adds, not part of the value.
  const value = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (!value) throw new UsageError("standard input was empty: nothing to store", "secrets");
  return value;
}
