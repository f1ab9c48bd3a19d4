/**
 * @module answer — `airlock answer ID [IID] OPTION`: answers a pending permission request or question, from any
 * terminal, while another one (or the web UI, or a script) waits for it.
 */
import type { AnswerInput, PendingInteraction } from "@airlock/client";
import { type CommandSpec, type Parsed, UsageError, sessionId } from "../args.ts";
import type { Context } from "../context.ts";
import { exitCodes } from "../exit.ts";

export const answerSpec: CommandSpec = {
  name: "answer",
  summary: "Answer a session's pending interaction: an option of a permission request, or a question's answer.",
  usage: "ID [IID] OPTION",
  options: {},
  details: `IID may be left out when exactly one interaction is pending (\`airlock show ID\` lists them).
For a permission, OPTION is an option id, its name, or its kind (allow_once, allow_always, reject_once,
reject_always; "allow" and "reject" pick the once kinds, "always" and "never" the always kinds). For a question, OPTION is the answer: JSON
(e.g. '{"name":"Ada"}') or plain text; "decline" declines.`,
};

export async function answer(ctx: Context, p: Parsed): Promise<number> {
  const id = sessionId(p, "answer");
  const rest = p.positionals.slice(1);
  const iid = rest.length >= 2 && /^int_/.test(rest[0]) ? rest[0] : undefined;
  const option = (iid ? rest.slice(1) : rest).join(" ");
  if (!option) throw new UsageError(`give the answer, e.g. airlock answer ${id} allow`, "answer");
  const session = ctx.client.session(id);
  const pending = await session.interactions();
  const target = iid ? pending.find((i) => i.id === iid) : pending.length === 1 ? pending[0] : undefined;
  if (!target) {
    if (iid) ctx.stderr.write(`interaction ${iid} is not pending in ${id} (answered already, or no such interaction)\n`);
    else if (pending.length === 0) ctx.stderr.write(`nothing is pending in ${id}\n`);
    else ctx.stderr.write(`${pending.length} interactions are pending in ${id}; name one:\n${pending.map((i) => `  airlock answer ${id} ${i.id} …   (${i.kind})`).join("\n")}\n`);
    return exitCodes.failed;
  }
  const body = toAnswer(target, option);
  const resolution = await session.answer(target.id, body);
  ctx.stdout.write(`answered ${target.id}: ${resolution.optionId ?? JSON.stringify(resolution.answer)}\n`);
  return exitCodes.ok;
}

const shortcuts: Record<string, string[]> = { always: ["allow_always"], never: ["reject_always"], allow: ["allow_once", "allow_always"], yes: ["allow_once", "allow_always"], reject: ["reject_once", "reject_always"], deny: ["reject_once", "reject_always"], no: ["reject_once", "reject_always"] };

/** The API body for OPTION: matched against the request's options (id, name, kind), or parsed as an answer. */
export function toAnswer(interaction: Pick<PendingInteraction, "kind" | "request">, option: string): AnswerInput {
  if (interaction.kind === "question") {
    try {
      return { answer: JSON.parse(option) };
    } catch {
      return { answer: option };
    }
  }
  const options = ((interaction.request as { options?: Array<{ optionId: string; name: string; kind: string }> }).options ?? []);
  const lower = option.toLowerCase();
  const match =
    options.find((o) => o.optionId === option) ??
    options.find((o) => o.name.toLowerCase() === lower) ??
    options.find((o) => o.kind === lower) ??
    (shortcuts[lower] ?? []).map((kind) => options.find((o) => o.kind === kind)).find(Boolean);
  if (!match) throw new UsageError(`"${option}" is not one of this request's options: ${options.map((o) => `${o.optionId} (${o.name})`).join(", ")}`, "answer");
  return { optionId: match.optionId };
}
