/**
 * @module errors — errors with a stable code and HTTP status, recognised by a marker rather than `instanceof`.
 */
export type ErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "idempotency_key_reused"
  | "too_many_requests"
  | "unavailable"
  | "internal";

const statusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  // As the IETF Idempotency-Key draft says: the key is known, the request under it is not the same one.
  idempotency_key_reused: 422,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
};

const marker = Symbol.for("airlock.error");

export class AirlockError extends Error {
  readonly [marker] = true;
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AirlockError";
    this.status = statusOf[code];
  }

  static is(value: unknown): value is AirlockError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export const badRequest = (message: string, details?: unknown) => new AirlockError("bad_request", message, details);
export const notFound = (message: string) => new AirlockError("not_found", message);
export const conflict = (message: string, details?: unknown) => new AirlockError("conflict", message, details);

/** The commit of an owner whose lease another node has taken since (its epoch is stale). */
export function fenced(sessionId: string): AirlockError {
  return new AirlockError("conflict", `session ${sessionId} is driven by another node now`, { fenced: true });
}

export function isFenced(error: unknown): boolean {
  return AirlockError.is(error) && (error.details as { fenced?: boolean } | undefined)?.fenced === true;
}
