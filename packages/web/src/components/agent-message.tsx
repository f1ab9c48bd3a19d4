/** The agent's answer, as Markdown; while it streams, a caret marks where text arrives. */
import { memo } from "react";
import type { ItemOf } from "../state/view.ts";
import { Markdown } from "./markdown.tsx";

export const AgentMessage = memo(function AgentMessage({ item, streaming }: { item: ItemOf<"message">; streaming: boolean }) {
  return (
    <div className={`agent-message${streaming ? " streaming" : ""}`}>
      <Markdown text={item.text} />
    </div>
  );
});
