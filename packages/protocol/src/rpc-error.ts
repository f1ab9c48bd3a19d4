/**
 * @module rpc-error — the words of an error an ACP peer answered with, for agents that show it to a model or a
 * user. Kept free of the rest of the protocol package so the agents' bundles take only this.
 */

/** The error's message; the ACP SDK wraps a thrown Error as "Internal error" with the real message in `data.details`. */
export function describeRpcError(err: unknown): string {
  if (err && typeof err === "object" && "message" in err) {
    const data = (err as { data?: unknown }).data;
    const detail = typeof data === "string" ? data : data && typeof data === "object" && "details" in data ? String((data as { details: unknown }).details) : "";
    const message = String((err as Error).message);
    if (!detail || message.includes(detail)) return message;
    return message === "Internal error" ? detail : `${message}: ${detail}`;
  }
  return String(err);
}
