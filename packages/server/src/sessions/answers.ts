/**
 * @module answers — what an answer to an interaction means: the resolution stored (and shown as
 * `interaction.resolved`), and the ACP result the agent gets for it. Pure: the driver stores and sends.
 */
import { type AnswerInteraction, type InteractionRecord, badRequest } from "@airlock/protocol";

/** Checks an answer against the interaction it answers and gives the resolution to store. */
export function resolutionOf(interaction: InteractionRecord, body: AnswerInteraction, by: string): Record<string, unknown> {
  const interactionId = interaction.id;
  if (interaction.kind === "permission") {
    if (body.optionId === undefined) throw badRequest("a permission request is answered with {optionId}");
    const options = (interaction.request.options ?? []) as Array<{ optionId: string }>;
    if (!options.some((o) => o.optionId === body.optionId)) {
      throw badRequest(`unknown optionId "${body.optionId}"; the options are: ${options.map((o) => o.optionId).join(", ")}`);
    }
    return { interactionId, optionId: body.optionId, outcome: "selected", by };
  }
  if (body.answer === undefined) throw badRequest("a question is answered with {answer}");
  return { interactionId, answer: body.answer, outcome: "answered", by };
}

/**
 * The JSON-RPC result that answers the agent's request. An ACP form answer is an object matching the requested
 * schema; a plain answer to a one-field form is put in that field.
 */
export function acpResult(interaction: Pick<InteractionRecord, "kind" | "request">, resolution: Record<string, unknown>): unknown {
  const { kind } = interaction;
  if (resolution.outcome === "cancelled") return kind === "permission" ? { outcome: { outcome: "cancelled" } } : { action: "cancel" };
  if (kind === "permission") return { outcome: { outcome: "selected", optionId: resolution.optionId } };
  const answer = resolution.answer;
  if (answer === "decline" || answer === null) return { action: "decline" };
  if (answer !== null && typeof answer === "object") return { action: "accept", content: answer };
  const properties = Object.keys(((interaction.request.schema as { properties?: object } | undefined)?.properties ?? {}) as object);
  return { action: "accept", content: properties.length === 1 ? { [properties[0]]: answer } : { answer } };
}
