/**
 * @module accept — whether `GET …/events` answers with the SSE stream or a JSON page, from `Accept` read as
 * RFC 9110 says (q-values, wildcards) by hono's parser: `text/event-stream;q=0` beside a wildcard means "anything
 * but the stream", and gets the JSON page.
 */
import type { Context } from "hono";
import { accepts } from "hono/accepts";
import type { Accept } from "hono/utils/accept";

const eventStream = "text/event-stream";
const json = "application/json";
/** Types that a JSON page satisfies. */
const takesJson = new Set([json, "application/*", "*/*", "*"]);

/**
 * The stream only when it is named outright (a wildcard is what any client sends, and means no stream) with a
 * q above 0, and ranked no lower than anything a JSON page would satisfy; a tie goes to the stream, as a client
 * that names the stream at all most likely reads one.
 */
export function chooseEventsFormat(list: Accept[]): typeof eventStream | typeof json {
  const q = (match: (type: string) => boolean) => Math.max(0, ...list.filter((a) => match(a.type.toLowerCase())).map((a) => a.q));
  const stream = q((t) => t === eventStream);
  return stream > 0 && stream >= q((t) => takesJson.has(t)) ? eventStream : json;
}

export function wantsEventStream(c: Context): boolean {
  return accepts(c, { header: "Accept", supports: [eventStream, json], default: json, match: chooseEventsFormat }) === eventStream;
}
