/**
 * A tool call as a card: kind icon, title, where it acts, a status that goes from a spinner to done or failed;
 * inside, its diffs, text output, terminal and raw input/output. A permission request about it appears in the
 * card itself, with the agent's options, and stays there with the answer once given.
 */
import { type ComponentType, memo, useMemo, useState } from "react";
import { diffTexts } from "../state/diff.ts";
import type { ItemOf } from "../state/view.ts";
import { DiffView } from "./diff-view.tsx";
import { BrainIcon, ChevronIcon, EyeIcon, GlobeIcon, MoveIcon, PencilIcon, SearchIcon, ShieldIcon, SparkIcon, TerminalIcon, ToolIcon, TrashIcon } from "./icons.tsx";
import { InteractionActions } from "./interaction-actions.tsx";
import { Markdown } from "./markdown.tsx";
import { RawData } from "./raw-data.tsx";
import { TerminalView } from "./terminal-view.tsx";

const kindIcons: Record<string, ComponentType<{ size?: number }>> = {
  read: EyeIcon,
  edit: PencilIcon,
  delete: TrashIcon,
  move: MoveIcon,
  search: SearchIcon,
  execute: TerminalIcon,
  think: BrainIcon,
  fetch: GlobeIcon,
  switch_mode: SparkIcon,
};
const statusLabel = { pending: "Pending", in_progress: "Running", completed: "Done", failed: "Failed" } as const;

/** Paths inside the sandbox's workspace are shown relative to it. */
const shortPath = (p: string) => p.replace(/^\/workspace\//, "");

export const ToolCard = memo(function ToolCard({ item, sessionId }: { item: ItemOf<"tool">; sessionId: string }) {
  const waiting = Boolean(item.interaction && !item.interaction.resolution);
  const running = item.status === "pending" || item.status === "in_progress";
  const hasDetail = item.content.length > 0 || item.terminals.length > 0;
  const [open, setOpen] = useState<boolean | null>(null);
  // Open by default when there is something worth seeing at once: a diff, a terminal, a pending decision.
  const shown = open ?? (waiting || (hasDetail && item.toolKind !== "read" && item.toolKind !== "search"));
  const Icon = kindIcons[item.toolKind] ?? ToolIcon;
  const diffs = useMemo(() => item.content.flatMap((c) => (c.type === "diff" ? [diffTexts(shortPath(c.path), c.oldText, c.newText)] : [])), [item.content]);
  const command = typeof (item.rawInput as { command?: unknown })?.command === "string" ? ((item.rawInput as { command: string }).command) : undefined;
  const status = waiting ? "waiting" : item.status;

  return (
    <section className={`card tool status-${status}`} aria-label={`Tool call: ${item.title}`}>
      <button type="button" className="card-head as-button" aria-expanded={shown} onClick={() => setOpen(!shown)}>
        <span className="kind-icon" aria-hidden>
          <Icon />
        </span>
        <span className="card-title-wrap">
          <span className="card-title">{item.title}</span>
          {item.locations.length > 0 && (
            <span className="card-sub">
              {item.locations.map((l) => `${shortPath(l.path)}${l.line ? `:${l.line}` : ""}`).join(", ")}
            </span>
          )}
        </span>
        <span className={`pill ${status}`}>
          {running && !waiting && <span className="spinner" aria-hidden />}
          {waiting ? "Needs approval" : statusLabel[item.status] ?? item.status}
        </span>
        <ChevronIcon size={14} className="chevron" />
      </button>
      {shown && (
        <div className="card-body">
          {diffs.map((d, i) => (
            <DiffView key={i} file={d} />
          ))}
          {item.content.map((c, i) =>
            c.type === "content" && c.content?.type === "text" && c.content.text ? <Markdown key={i} text={c.content.text} className="tool-text" /> : null,
          )}
          {item.terminals.map((t) => (
            <TerminalView key={t.terminalId} terminal={t} command={command} />
          ))}
          {!hasDetail && !item.interaction && item.rawInput === undefined && item.rawOutput === undefined && <div className="muted small">No details.</div>}
          {item.rawInput !== undefined && <RawData label="Input" value={item.rawInput} />}
          {item.rawOutput !== undefined && <RawData label="Output" value={item.rawOutput} />}
        </div>
      )}
      {item.interaction && (
        <div className={`tool-permission${waiting ? " waiting" : ""}`}>
          {waiting && (
            <div className="tool-permission-ask">
              <ShieldIcon size={15} /> The agent asks for permission to do this.
            </div>
          )}
          <InteractionActions sessionId={sessionId} interaction={item.interaction} />
        </div>
      )}
    </section>
  );
});
