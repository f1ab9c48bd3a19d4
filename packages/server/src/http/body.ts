/**
 * @module body — reads a request's body with a size limit. On Node it is read off the request's own stream:
 * building the web Request and its stream around it costs more than the rest of a small call (a prompt, an
 * agent's LLM call), on every call.
 */
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";

/** The request's bytes: undefined for GET and HEAD, null when it is over `maxBytes` (declared or sent). */
export async function readBody(c: Context, maxBytes: number): Promise<Buffer | undefined | null> {
  if (c.req.method === "GET" || c.req.method === "HEAD") return undefined;
  if (Number(c.req.header("content-length") ?? 0) > maxBytes) return null;
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) {
    const body = Buffer.from(await c.req.arrayBuffer());
    return body.length > maxBytes ? null : body;
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Over the limit: the rest is read and dropped, so the answer reaches a client still sending.
      incoming.off("data", onData).resume();
      resolve(null);
    };
    incoming.on("data", onData);
    incoming.once("end", () => resolve(Buffer.concat(chunks, size)));
    incoming.once("error", reject);
  });
}
