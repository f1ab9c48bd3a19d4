/**
 * @module answer — a resolved interaction told in words: a question's answer as the form's own fields (their
 * titles, the values as chosen), and who answered it as a person would say it, not as the server records it.
 */

/** One field of an answered form. */
export interface AnsweredField {
  label: string;
  value: string;
}

interface Property {
  title?: string;
  enum?: unknown[];
}

/** A question's answer: free text as it is, a form's answer as its fields in the schema's order. */
export function answeredFields(answer: unknown, schema: unknown): AnsweredField[] | string {
  if (answer === null || answer === undefined) return "";
  if (typeof answer !== "object" || Array.isArray(answer)) return valueText(answer);
  const props = (schema as { properties?: Record<string, Property> } | undefined)?.properties ?? {};
  const values = answer as Record<string, unknown>;
  const keys = [...Object.keys(props).filter((k) => k in values), ...Object.keys(values).filter((k) => !(k in props))];
  return keys.map((k) => ({ label: props[k]?.title ?? k, value: valueText(values[k]) }));
}

function valueText(value: unknown): string {
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (value === null || value === undefined) return "—";
  return Array.isArray(value) ? value.map(valueText).join(", ") : JSON.stringify(value);
}

/**
 * Who answered, from the server's record of it (the caller's principal): `loopback` is a client on the server's
 * own machine (no API key in use), `env-key` one of the keys in the server's AIRLOCK_API_KEYS, `key_…` a key
 * made with `airlock keys create`. Null when there is nothing worth saying.
 */
export function answeredBy(by: string | undefined, here: boolean): string | null {
  if (here) return "by you";
  if (!by) return null;
  if (by === "loopback") return "from the server's own machine";
  if (by === "env-key") return "with one of the server's configured API keys";
  if (/^key_[0-9a-f]+$/.test(by)) return `with API key ${by}`;
  return `by ${by}`;
}
