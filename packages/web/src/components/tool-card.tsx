/** A tool call: kind, title, status, then its input, output, diffs and terminal. */
import { memo, useState } from "react";
import type { Item } from "../state/view.ts";
import { ContentDiff } from "./diff-view.tsx";
import { Markdown } from "./markdown.tsx";
import { Terminal } from "./terminal.tsx";

// Glyphs every common font has (no emoji: many servers and CI browsers have no emoji font).
const icons: Record<string, string> = { read: "≡", edit: "✎", delete: "✕", move: "⇄", search: "⌕", execute: "›_", think: "◇", fetch: "↓", switch_mode: "⇆", other: "⚙" };
const statusText: Record<string, string> = { pending: "Pending", in_progress: "Running", completed: "Done", failed: "Failed" };

type Tool = Extract<Item, { kind: "tool" }>;
type TerminalItem = Extract<Item, { kind: "terminal" }>;

export const ToolCard = memo(function ToolCard({ item, terminals }: { item: Tool; terminals: TerminalItem[] }) {
  const [open, setOpen] = useState(item.toolKind === "edit" || item.toolKind === "execute");
  const running = item.status === "pending" || item.status === "in_progress";
  return (
    <div className={`block card tool ${item.status}`}>
      <button className="card-head as-button" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span className="kind-icon" aria-hidden>{icons[item.toolKind] ?? icons.other}</span>
        <span className="card-title">{item.title}</span>
        <span className={`pill ${item.status}`}>
          {running && <span className="spinner" aria-hidden />}
          {statusText[item.status] ?? item.status}
        </span>
        <span className="chevron" aria-hidden>{open ? "▾" : "▸"}</span>
      </button>
      {open && (
        <div className="card-body">
          {item.locations.length > 0 && (
            <div className="locations">
              {item.locations.map((l, i) => (
                <code key={i}>
                  {l.path}
                  {l.line ? `:${l.line}` : ""}
                </code>
              ))}
            </div>
          )}
          {item.content.map((c, i) =>
            c.type === "diff" ? (
              <ContentDiff key={i} path={c.path} oldText={c.oldText ?? null} newText={c.newText ?? ""} />
            ) : c.type === "content" && c.content?.type === "text" ? (
              <Markdown key={i} text={c.content.text} />
            ) : null,
          )}
          {terminals.map((t) => (
            <Terminal key={t.key} output={t.output} exitCode={t.exitCode} done={t.done} />
          ))}
          {item.rawInput !== undefined && <Json label="Input" value={item.rawInput} />}
          {item.rawOutput !== undefined && <Json label="Output" value={item.rawOutput} />}
        </div>
      )}
    </div>
  );
});

function Json({ label, value }: { label: string; value: unknown }) {
  return (
    <details className="json">
      <summary>{label}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}
