/** A permission request about a tool call not on screen, or a question: the request, then the answer. */
import { memo, useMemo } from "react";
import { diffTexts } from "../state/diff.ts";
import type { ItemOf } from "../state/view.ts";
import { DiffView } from "./diff-view.tsx";
import { QuestionIcon, ShieldIcon } from "./icons.tsx";
import { InteractionActions } from "./interaction-actions.tsx";
import { Markdown } from "./markdown.tsx";

export const InteractionCard = memo(function InteractionCard({ item, sessionId }: { item: ItemOf<"interaction">; sessionId: string }) {
  const { interaction } = item;
  const waiting = !interaction.resolution;
  const tool = interaction.toolCall;
  const diffs = useMemo(
    () => (tool?.content ?? []).flatMap((c) => (c.type === "diff" ? [diffTexts(c.path, c.oldText, c.newText)] : [])),
    [tool],
  );
  const permission = interaction.kind === "permission";
  return (
    <section className={`card interaction${waiting ? " waiting" : " resolved"}`} aria-label={permission ? "Permission request" : "Question from the agent"}>
      <header className="card-head">
        <span className="kind-icon" aria-hidden>
          {permission ? <ShieldIcon /> : <QuestionIcon />}
        </span>
        <span className="card-title">{permission ? `Allow: ${tool?.title ?? "an action"}?` : "The agent asks"}</span>
        {waiting && <span className="pill attention">Needs you</span>}
      </header>
      <div className="card-body">
        {interaction.prompt && <Markdown text={interaction.prompt} className="question-text" />}
        {diffs.map((d, i) => (
          <DiffView key={i} file={d} />
        ))}
        {tool?.rawInput !== undefined && diffs.length === 0 && <pre className="json-block">{JSON.stringify(tool.rawInput, null, 2)}</pre>}
        <InteractionActions sessionId={sessionId} interaction={interaction} />
      </div>
    </section>
  );
});
