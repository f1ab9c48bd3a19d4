/**
 * @module keywords — which behaviour a prompt asks for: the first keyword in the text, matched as a whole word
 * in any case ("Please THINK about it" → `think`; "readme" is not `read`).
 */

export const keywords = [
  "echo",
  "recall",
  "think",
  "tool",
  "plan",
  "permission",
  "write",
  "read",
  "run",
  "ask",
  "slow",
  "stubborn",
  "burst",
  "crash",
  "hang",
  "error",
  "mcp",
] as const;
export type Keyword = (typeof keywords)[number];

export interface PickedBehaviour {
  /** `null` when the prompt names no behaviour: the agent then introduces itself. */
  keyword: Keyword | null;
  /** The prompt text after the keyword, as typed (so `run a  &&  b` keeps its spacing), trimmed. */
  rest: string;
  /** `rest` split on whitespace. */
  args: string[];
}

// A letter, digit, `_` or `-` next to the keyword makes it part of a longer word ("tool_call", "run-time").
const pattern = new RegExp(`(?<![A-Za-z0-9_-])(${keywords.join("|")})(?![A-Za-z0-9_-])`, "i");

export function pick(text: string): PickedBehaviour {
  const match = pattern.exec(text);
  if (!match) return { keyword: null, rest: "", args: [] };
  const rest = text.slice(match.index + match[0].length).trim();
  return { keyword: match[1].toLowerCase() as Keyword, rest, args: rest ? rest.split(/\s+/) : [] };
}

/** `rest` without its first word: the text of `write <path> <text...>`, spacing and newlines kept. */
export function afterFirstWord(rest: string): string {
  return rest.replace(/^\S+\s*/, "");
}
