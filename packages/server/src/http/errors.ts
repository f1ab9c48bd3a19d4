/**
 * @module errors — every failure leaves as `{"error": {"code", "message"}}` with a fitting status; bad input
 * is a 4xx and never a 500.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ZodError } from "zod";
import { AirlockError, type ErrorCode, limits } from "@airlock/protocol";
import type { Logger } from "../log.ts";
import { readBody } from "./body.ts";

export function errorResponse(c: Context, status: number, code: ErrorCode, message: string, details?: unknown): Response {
  return c.json({ error: { code, message, ...(details === undefined ? {} : { details }) } }, status as 400);
}

export function onError(log: Logger) {
  return function handleError(err: Error, c: Context): Response {
    if (AirlockError.is(err)) return errorResponse(c, err.status, err.code, err.message, err.details);
    if (err instanceof ZodError) {
      const issues = err.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
      const first = issues[0];
      return errorResponse(c, 400, "bad_request", first ? `invalid ${first.path || "body"}: ${first.message}` : "invalid request", issues);
    }
    if (err instanceof HTTPException) {
      const code: ErrorCode = err.status === 413 ? "payload_too_large" : err.status === 401 ? "unauthorized" : "bad_request";
      return errorResponse(c, err.status, code, err.message || "bad request");
    }
    log.error({ err, path: c.req.path }, "unhandled error");
    return errorResponse(c, 500, "internal", "internal error; see the server log");
  };
}

/** Reads the body as JSON; an empty body is `{}`, one over `limits.maxBodyBytes` a 413, malformed JSON a 400. */
export async function jsonBody(c: Context): Promise<unknown> {
  const body = await readBody(c, limits.maxBodyBytes);
  if (body === null) throw new AirlockError("payload_too_large", `request bodies are limited to ${limits.maxBodyBytes} bytes`);
  const text = body?.toString("utf8") ?? "";
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AirlockError("bad_request", `malformed JSON body: ${(err as Error).message}`);
  }
}
