/**
 * @module stream — a scripted reply as the OpenAI Responses API streams it: `response.created`,
 * `response.in_progress`, per output item `response.output_item.added` … deltas (`response.output_text.delta`,
 * `response.reasoning_summary_text.delta`, `response.function_call_arguments.delta`,
 * `response.custom_tool_call_input.delta`) … their `.done` events and
 * `response.output_item.done`, then `response.completed` with usage (or `response.failed` where scripted).
 */
import type { ServerResponse } from "node:http";

export interface FunctionCall {
  name: string;
  /** The call's arguments; sent as the JSON string the API uses. */
  arguments: unknown;
  callId?: string;
}

/** A call of a freeform ("custom") tool, e.g. Codex's `apply_patch`, whose input is plain text. */
export interface CustomToolCall {
  name: string;
  input: string;
  callId?: string;
}

export interface OpenAIReply {
  text?: string;
  /** A reasoning summary, streamed before the text. */
  reasoning?: string;
  functionCalls?: FunctionCall[];
  customToolCalls?: CustomToolCall[];
  /** Answer with this HTTP error (OpenAI's error body) instead of a response. */
  error?: { status: number; type: string; message: string; code?: string };
  /** Streaming only: end with `response.failed` carrying this error instead of `response.completed`. */
  failWith?: { code: string; message: string };
  delayMs?: number;
  /** Deltas per text (default 3). */
  pieces?: number;
  usage?: { input: number; output: number; cached?: number };
}

let ids = 0;
const id = (prefix: string) => `${prefix}_fake_${(++ids).toString().padStart(6, "0")}`;

type Item = Record<string, unknown> & { type: string; id: string };

export function itemsOf(reply: OpenAIReply): Item[] {
  const items: Item[] = [];
  if (reply.reasoning) items.push({ type: "reasoning", id: id("rs"), summary: [{ type: "summary_text", text: reply.reasoning }] });
  if (reply.text) items.push({ type: "message", id: id("msg"), status: "completed", role: "assistant", content: [{ type: "output_text", text: reply.text, annotations: [] }] });
  for (const call of reply.functionCalls ?? []) {
    items.push({ type: "function_call", id: id("fc"), call_id: call.callId ?? id("call"), name: call.name, arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments), status: "completed" });
  }
  for (const call of reply.customToolCalls ?? []) {
    items.push({ type: "custom_tool_call", id: id("ctc"), call_id: call.callId ?? id("call"), name: call.name, input: call.input, status: "completed" });
  }
  return items;
}

export function usageOf(reply: OpenAIReply, items: Item[]) {
  const input = reply.usage?.input ?? 100;
  const output = reply.usage?.output ?? Math.max(1, Math.ceil(JSON.stringify(items).length / 16));
  return { input_tokens: input, input_tokens_details: { cached_tokens: reply.usage?.cached ?? 0 }, output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input + output };
}

export function responseJson(model: string, reply: OpenAIReply, status = "completed") {
  const output = itemsOf(reply);
  return { id: id("resp"), object: "response", created_at: Math.floor(Date.now() / 1000), status, model, output, usage: usageOf(reply, output) };
}

export async function streamResponse(res: ServerResponse, model: string, reply: OpenAIReply, requestId: string): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-request-id": requestId });
  let sequence = 0;
  const closed = () => res.destroyed || res.writableEnded;
  const send = (type: string, data: Record<string, unknown>) => {
    if (!closed()) res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
  };
  const wait = () => (reply.delayMs ? new Promise((r) => setTimeout(r, reply.delayMs)) : Promise.resolve());
  const pieces = (text: string) => {
    const size = Math.max(1, Math.ceil(text.length / Math.max(1, reply.pieces ?? 3)));
    const out: string[] = [];
    for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
    return out.length ? out : [""];
  };
  const full = responseJson(model, reply);
  const shell = { ...full, status: "in_progress", output: [], usage: null };
  send("response.created", { response: shell });
  send("response.in_progress", { response: shell });
  for (const [output_index, item] of full.output.entries()) {
    const item_id = item.id;
    if (item.type === "message") {
      const text = (item.content as Array<{ text: string }>)[0].text;
      send("response.output_item.added", { output_index, item: { ...item, status: "in_progress", content: [] } });
      send("response.content_part.added", { item_id, output_index, content_index: 0, part: { type: "output_text", text: "", annotations: [] } });
      for (const delta of pieces(text)) {
        await wait();
        if (closed()) return;
        send("response.output_text.delta", { item_id, output_index, content_index: 0, delta });
      }
      send("response.output_text.done", { item_id, output_index, content_index: 0, text });
      send("response.content_part.done", { item_id, output_index, content_index: 0, part: { type: "output_text", text, annotations: [] } });
    } else if (item.type === "reasoning") {
      const text = (item.summary as Array<{ text: string }>)[0].text;
      send("response.output_item.added", { output_index, item: { ...item, summary: [] } });
      send("response.reasoning_summary_part.added", { item_id, output_index, summary_index: 0, part: { type: "summary_text", text: "" } });
      for (const delta of pieces(text)) {
        await wait();
        if (closed()) return;
        send("response.reasoning_summary_text.delta", { item_id, output_index, summary_index: 0, delta });
      }
      send("response.reasoning_summary_text.done", { item_id, output_index, summary_index: 0, text });
      send("response.reasoning_summary_part.done", { item_id, output_index, summary_index: 0, part: { type: "summary_text", text } });
    } else if (item.type === "custom_tool_call") {
      const input = item.input as string;
      send("response.output_item.added", { output_index, item: { ...item, input: "", status: "in_progress" } });
      for (const delta of pieces(input)) {
        await wait();
        if (closed()) return;
        send("response.custom_tool_call_input.delta", { item_id, output_index, delta });
      }
      send("response.custom_tool_call_input.done", { item_id, output_index, input });
    } else {
      const args = item.arguments as string;
      send("response.output_item.added", { output_index, item: { ...item, arguments: "", status: "in_progress" } });
      for (const delta of pieces(args)) {
        await wait();
        if (closed()) return;
        send("response.function_call_arguments.delta", { item_id, output_index, delta });
      }
      send("response.function_call_arguments.done", { item_id, output_index, arguments: args });
    }
    send("response.output_item.done", { output_index, item });
  }
  if (reply.failWith) send("response.failed", { response: { ...full, status: "failed", error: reply.failWith } });
  else send("response.completed", { response: full });
  res.end();
}
