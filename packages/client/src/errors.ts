/**
 * @module errors — what a failed call of the API throws: `AirlockApiError`, recognised by a marker rather than
 * `instanceof` (so two copies of this package still recognise each other's errors).
 */

const apiErrorMarker = Symbol.for("airlock.api-error");

/**
 * An error answer of the API (`{"error": {code, message}}`), or `status: 0` (code `unreachable`) when the
 * server could not be reached at all.
 *
 * @example
 * try {
 *   await airlock.sessions.answer(id, interactionId, { optionId: "allow" });
 * } catch (err) {
 *   if (AirlockApiError.is(err) && err.status === 409) console.log("someone answered first");
 *   else throw err;
 * }
 */
export class AirlockApiError extends Error {
  readonly [apiErrorMarker] = true;
  constructor(
    /** The HTTP status; 0 when the server was not reached. */
    readonly status: number,
    /** The API's error code (`bad_request`, `not_found`, `conflict`, …), `unreachable`, or `http_error` for a body that was not the API's. */
    readonly code: string,
    message: string,
    /** The API's `details`, when it gave any (e.g. the issues of a bad request, the resolution of an answered interaction). */
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AirlockApiError";
  }

  /** True for an `AirlockApiError` from any copy of this module. */
  static is(value: unknown): value is AirlockApiError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[apiErrorMarker] === true;
  }

  /**
   * True when trying again may succeed: the server was unreachable, timed out, was overloaded or restarting
   * (0, 408, 429, 502, 503, 504). A 4xx about the request itself is never retryable.
   */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

/** Reads an error response into an `AirlockApiError`. */
export async function apiError(res: Response): Promise<AirlockApiError> {
  const text = await res.text().catch(() => "");
  try {
    const { error } = JSON.parse(text) as { error: { code: string; message: string; details?: unknown } };
    if (typeof error?.code === "string" && typeof error.message === "string") return new AirlockApiError(res.status, error.code, error.message, error.details);
  } catch {
    // not the API's error body (a proxy's page, say): described below
  }
  return new AirlockApiError(res.status, "http_error", `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`);
}

/** The error for a server that could not be reached (DNS, refused connection, reset, TLS…). */
export function unreachable(baseUrl: string, err: unknown): AirlockApiError {
  const where = baseUrl || "the page's origin";
  return new AirlockApiError(0, "unreachable", `could not reach the Airlock server at ${where}: ${(err as Error)?.message ?? String(err)}`, undefined, { cause: err });
}
