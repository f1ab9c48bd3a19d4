/**
 * @module stream — a scripted reply as the Messages API streams it: `message_start`, `content_block_start`,
 * `ping`, `content_block_delta` (text_delta, thinking_delta then signature_delta, input_json_delta),
 * `content_block_stop`, `message_delta` (stop_reason, usage), `message_stop`; or an `error` event mid-stream.
 */
import type { ServerResponse } from "node:http";
import { type Block, type Reply, blockJson, blocksOf, nextId, stopReasonOf, usageOf } from "./reply.ts";

export async function streamReply(res: ServerResponse, model: string, reply: Reply, requestId: string): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "request-id": requestId });
  const closed = () => res.destroyed || res.writableEnded;
  const send = (event: string, data: unknown) => {
    if (!closed()) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const sleep = (ms?: number) => (ms ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
  const blocks = blocksOf(reply);
  const usage = usageOf(reply, blocks);
  const start = { id: nextId("msg"), type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } };
  send("message_start", { type: "message_start", message: start });
  await sleep(reply.firstTokenMs);

  const failsAt = reply.streamError ? Math.min(reply.streamError.afterBlocks, blocks.length) : -1;
  const fail = () => {
    send("error", { type: "error", error: { type: reply.streamError!.type, message: reply.streamError!.message }, request_id: requestId });
    res.end();
  };
  for (const [index, block] of blocks.entries()) {
    if (index === failsAt) return fail();
    const json = blockJson(block);
    send("content_block_start", { type: "content_block_start", index, content_block: startOf(block) });
    if (index === 0) send("ping", { type: "ping" });
    for (const delta of deltasOf(block, json, reply.pieces ?? 3)) {
      await sleep(reply.delayMs);
      if (closed()) return;
      const stamped = reply.timestamps && delta.type === "text_delta" ? { ...delta, text: `⏱${(performance.timeOrigin + performance.now()).toFixed(3)} ` } : delta;
      send("content_block_delta", { type: "content_block_delta", index, delta: stamped });
    }
    if (block.type === "thinking") send("content_block_delta", { type: "content_block_delta", index, delta: { type: "signature_delta", signature: json.signature } });
    send("content_block_stop", { type: "content_block_stop", index });
  }
  if (failsAt === blocks.length) return fail();
  send("message_delta", { type: "message_delta", delta: { stop_reason: stopReasonOf(reply, blocks), stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  send("message_stop", { type: "message_stop" });
  res.end();
}

function startOf(block: Block): Record<string, unknown> {
  if (block.type === "thinking") return { type: "thinking", thinking: "", signature: "" };
  if (block.type === "text") return { type: "text", text: "" };
  return { type: "tool_use", id: block.id, name: block.name, input: {} };
}

function deltasOf(block: Block, json: Record<string, unknown>, pieces: number): Array<Record<string, unknown>> {
  if (block.type === "thinking") return split(block.thinking, pieces).map((thinking) => ({ type: "thinking_delta", thinking }));
  if (block.type === "text") return split(block.text, pieces).map((text) => ({ type: "text_delta", text }));
  return split(JSON.stringify(json.input ?? {}), pieces).map((partial_json) => ({ type: "input_json_delta", partial_json }));
}

/** `text` in `n` nearly equal pieces (at least one, so an empty text still gets its delta). */
function split(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, n)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [""];
}
