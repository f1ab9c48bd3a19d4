/** The small conversation items: the user's prompt, agent text, thinking, plans, file changes, notices. */
import { memo, useState } from "react";
import type { Item } from "../state/view.ts";
import { DiffView } from "./diff-view.tsx";
import { Markdown } from "./markdown.tsx";

type Of<K extends Item["kind"]> = Extract<Item, { kind: K }>;

export const UserBlock = memo(function UserBlock({ item }: { item: Of<"user"> }) {
  return (
    <div className="block user">
      <div className="bubble">{item.text}</div>
    </div>
  );
});

export const MessageBlock = memo(function MessageBlock({ item, streaming }: { item: Of<"message">; streaming: boolean }) {
  return (
    <div className={`block message${streaming ? " streaming" : ""}`}>
      <Markdown text={item.text} />
    </div>
  );
});

export const ThoughtBlock = memo(function ThoughtBlock({ item, streaming }: { item: Of<"thought">; streaming: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="block thought">
      <button className="thought-toggle" aria-expanded={open || streaming} onClick={() => setOpen(!open)}>
        <span className="thought-icon" aria-hidden>◇</span> {streaming ? "Thinking…" : "Thought"}
        <span className="chevron" aria-hidden>{open || streaming ? "▾" : "▸"}</span>
      </button>
      {(open || streaming) && <div className="thought-body">{item.text}</div>}
    </div>
  );
});

export const PlanBlock = memo(function PlanBlock({ item }: { item: Of<"plan"> }) {
  const done = item.entries.filter((e) => e.status === "completed").length;
  return (
    <div className="block card plan">
      <div className="card-head">
        <span className="card-title">Plan</span>
        <span className="muted">
          {done}/{item.entries.length} done
        </span>
      </div>
      <ul className="checklist">
        {item.entries.map((e, i) => (
          <li key={i} className={e.status}>
            <span className="check" aria-label={e.status}>{e.status === "completed" ? "✓" : e.status === "in_progress" ? "◐" : ""}</span>
            {e.content}
          </li>
        ))}
      </ul>
    </div>
  );
});

export const FileBlock = memo(function FileBlock({ item }: { item: Of<"file"> }) {
  const [open, setOpen] = useState(true);
  return (
    <div className="block card file">
      <button className="card-head as-button" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span className="kind-icon" aria-hidden>✎</span>
        <span className="card-title">
          {item.change === "created" ? "Created" : "Modified"} <code>{item.path}</code>
        </span>
        <span className="chevron" aria-hidden>{open ? "▾" : "▸"}</span>
      </button>
      {open && <DiffView diff={item.diff} />}
    </div>
  );
});

export const ErrorBlock = memo(function ErrorBlock({ item }: { item: Of<"error"> }) {
  return (
    <div className="block notice bad" role="alert">
      <strong>Error:</strong> {item.message}
      {item.detail && <pre className="detail">{item.detail}</pre>}
    </div>
  );
});

export const NoticeBlock = memo(function NoticeBlock({ item }: { item: Of<"notice"> }) {
  return <div className={`block notice ${item.tone}`}>{item.text}</div>;
});
