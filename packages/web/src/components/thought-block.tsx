/** The agent's thinking: folded by default, open while it streams so the user sees it work. */
import { memo, useState } from "react";
import type { ItemOf } from "../state/view.ts";
import { BrainIcon, ChevronIcon } from "./icons.tsx";

export const ThoughtBlock = memo(function ThoughtBlock({ item, streaming }: { item: ItemOf<"thought">; streaming: boolean }) {
  const [open, setOpen] = useState<boolean | null>(null);
  const shown = open ?? streaming;
  const words = item.text.trim().split(/\s+/).length;
  return (
    <div className={`thought${shown ? " open" : ""}${streaming ? " streaming" : ""}`}>
      <button type="button" className="thought-toggle" aria-expanded={shown} onClick={() => setOpen(!shown)}>
        <BrainIcon size={14} />
        <span>{streaming ? "Thinking…" : "Thought"}</span>
        {!streaming && <span className="thought-meta">{words} words</span>}
        <ChevronIcon size={13} className="chevron" />
      </button>
      {shown && <div className="thought-body">{item.text}</div>}
    </div>
  );
});
