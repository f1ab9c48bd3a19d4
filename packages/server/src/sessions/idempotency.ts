/**
 * @module idempotency — retried prompts and answers (`Idempotency-Key`, or `requestId` in the body).
 *
 * The key and a fingerprint of the request (a hash of what it asked) are stored with what the request made — the
 * turn it queued, the resolution it gave — in the same commit, under a unique index per session. A retry finds
 * them and gets the first answer back, changing nothing; the same key on a different request is refused (422),
 * because answering it with the first request's result would hide a client's bug. A retry racing the first
 * request loses the insert on the unique index, and then finds the first request's record.
 */
import { createHash } from "node:crypto";
import type { ContentBlock } from "@agentclientprotocol/sdk";
import { type AnswerInteraction, type IdempotencyRecord, type InteractionRecord, type TurnRecord, AirlockError, IdempotencyKey, badRequest } from "@airlock/protocol";

/** The request's key from its header and its body; both may be given only if they agree. */
export function requestKey(header: string | undefined, requestId: string | undefined): string | undefined {
  if (header !== undefined) {
    const parsed = IdempotencyKey.safeParse(header);
    if (!parsed.success) throw badRequest(`invalid Idempotency-Key header: ${parsed.error.issues[0]?.message ?? "malformed"}`);
  }
  if (header !== undefined && requestId !== undefined && header !== requestId) {
    throw badRequest("the Idempotency-Key header and `requestId` differ; give one of them, or the same key in both");
  }
  return header ?? requestId;
}

const hash = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("base64url");

export const promptRecord = (key: string, content: ContentBlock[]): IdempotencyRecord => ({ key, fingerprint: hash(["prompt", content]) });

export const answerRecord = (key: string, interactionId: string, body: AnswerInteraction): IdempotencyRecord => ({
  key,
  fingerprint: hash(["answer", interactionId, body.optionId ?? null, body.answer ?? null]),
});

const reused = (key: string, what: string) =>
  new AirlockError("idempotency_key_reused", `Idempotency-Key "${key}" was already used in this session for ${what}; send a new request with a new key`);

/** The first answer of a retried prompt, or null when no turn was queued under this key. */
export function replayPrompt(turn: TurnRecord | null, request: IdempotencyRecord): { turnId: string } | null {
  if (!turn) return null;
  if (turn.idempotency?.fingerprint !== request.fingerprint) throw reused(request.key, `a different prompt (turn ${turn.id})`);
  return { turnId: turn.id };
}

/** The first answer of a retried answer, or null when no interaction was resolved under this key. */
export function replayAnswer(interaction: InteractionRecord | null, interactionId: string, request: IdempotencyRecord): Record<string, unknown> | null {
  if (!interaction) return null;
  if (interaction.id !== interactionId) throw reused(request.key, `an answer to another interaction (${interaction.id})`);
  if (interaction.idempotency?.fingerprint !== request.fingerprint || !interaction.resolution) throw reused(request.key, "a different answer to this interaction");
  return interaction.resolution;
}
