/**
 * @module behaviours — the keyword → behaviour table. `burst` is wired in `agent.ts`: it writes to stdout
 * directly.
 */
import { ask } from "./ask.ts";
import { crash, error, hang, slow, stubborn } from "./control.ts";
import { echo, intro, recall, think } from "./conversation.ts";
import { plan, tool } from "./demo-tools.ts";
import { read, write } from "./files.ts";
import type { Keyword } from "./keywords.ts";
import { mcp } from "./mcp.ts";
import { permission } from "./permission.ts";
import { run } from "./terminal.ts";
import type { Behaviour } from "./turn.ts";

export const behaviours: Record<Exclude<Keyword, "burst">, Behaviour> = {
  echo,
  recall,
  think,
  tool,
  plan,
  permission,
  write,
  read,
  run,
  ask,
  slow,
  stubborn,
  crash,
  hang,
  error,
  mcp,
};

/** What a prompt with no keyword gets. */
export { intro };
