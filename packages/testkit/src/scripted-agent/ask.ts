/**
 * @module ask — `ask`: a form question through `elicitation/create` (stable in ACP v1), sent only to a client
 * that advertised `elicitation.form`.
 */
import type { CreateElicitationResponse } from "@agentclientprotocol/sdk";
import * as acp from "@agentclientprotocol/sdk";
import { type Behaviour, cancellable, describe, reply } from "./turn.ts";

export const colours = ["red", "green", "blue"];

export const ask: Behaviour = async (turn) => {
  if (!turn.capabilities.elicitation?.form) {
    return reply(turn, "I would ask you a question, but this client cannot show forms (no elicitation.form capability).");
  }
  let answer: CreateElicitationResponse;
  try {
    answer = await turn.client.request(
      acp.methods.client.elicitation.create,
      {
        mode: "form",
        sessionId: turn.sessionId,
        message: "A quick question before I go on.",
        requestedSchema: {
          type: "object",
          properties: {
            name: { type: "string", title: "What should I call you?", minLength: 1, maxLength: 100 },
            colour: { type: "string", title: "Favourite colour", enum: colours },
          },
          required: ["name"],
        },
      },
      cancellable(turn),
    );
  } catch (err) {
    if (turn.signal.aborted) return "cancelled";
    return reply(turn, `The question could not be asked: ${describe(err)}`);
  }
  if (turn.signal.aborted) return "cancelled";
  if (answer.action === "decline") return reply(turn, "No problem, you declined to answer.");
  if (answer.action !== "accept") return reply(turn, "You closed the question without answering; never mind.");
  const content = (answer as { content?: Record<string, unknown> | null }).content ?? {};
  const name = typeof content.name === "string" && content.name.trim() ? content.name.trim() : "friend";
  const colour = typeof content.colour === "string" ? ` ${content.colour[0]?.toUpperCase()}${content.colour.slice(1)} is a fine colour.` : "";
  return reply(turn, `Nice to meet you, ${name}!${colour}`);
};
