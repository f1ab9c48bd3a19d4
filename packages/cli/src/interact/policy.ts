/**
 * @module policy — `--approve all|edits|none`: which permission requests the CLI answers by itself.
 *
 * `all` allows every permission request, `edits` only those of edit tools (ACP tool kinds `edit`, `delete`,
 * `move`), `none` answers nothing. What the policy leaves is asked inline on a terminal, or waits for an answer
 * given elsewhere (the web UI, `airlock answer`, the API). Questions are never answered by a policy.
 */
import type { AnswerInput, InteractionRequest } from "@airlock/client";

export const approvals = ["all", "edits", "none"] as const;
export type Approve = (typeof approvals)[number];

const editKinds = new Set(["edit", "delete", "move"]);

/** The option the policy picks, or undefined to leave the request to a person. ACP kinds, not ids, decide. */
export function autoAnswer(request: InteractionRequest, approve: Approve): AnswerInput | undefined {
  if (request.kind !== "permission" || approve === "none") return undefined;
  const options = request.options ?? [];
  const allow = options.find((o) => o.kind === "allow_once") ?? options.find((o) => o.kind === "allow_always");
  if (!allow) return undefined;
  if (approve === "all") return allow.optionId;
  return editKinds.has(request.toolCall?.kind ?? "") ? allow.optionId : undefined;
}
