/**
 * @module ids — prefixed identifiers that sort by creation time (`ses_…`, `turn_…`).
 */

export const prefixes = {
  session: "ses",
  turn: "turn",
  interaction: "int",
  apiKey: "key",
  tenant: "tnt",
  webhook: "whk",
  delivery: "dlv",
} as const;
export type IdKind = keyof typeof prefixes;

let lastMs = 0;
let counter = 0;

/** A new id: prefix, 12 hex digits of time plus a counter (so ids made in the same ms still sort), 8 random. */
export function newId(kind: IdKind): string {
  const now = Date.now();
  if (now === lastMs) counter++;
  else {
    lastMs = now;
    counter = 0;
  }
  const time = (now * 4096 + (counter % 4096)).toString(16).padStart(14, "0");
  return `${prefixes[kind]}_${time}${randomHex(4)}`;
}

/** True when `id` is shaped like an id of this kind (cheap check at the edge, before any lookup). */
export function isId(kind: IdKind, id: string): boolean {
  return new RegExp(`^${prefixes[kind]}_[0-9a-f]{14,40}$`).test(id);
}

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const b of buf) out += b.toString(16).padStart(2, "0");
  return out;
}
