/** A permission request or a question from the agent, answerable here; once answered, it says how. */
import { memo, useState } from "react";
import { AirlockApiError } from "@airlock/protocol";
import { client } from "../api/client.ts";
import type { Item } from "../state/view.ts";
import { ContentDiff } from "./diff-view.tsx";

type Interaction = Extract<Item, { kind: "interaction" }>;

export const InteractionCard = memo(function InteractionCard({ item, sessionId }: { item: Interaction; sessionId: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [answer, setAnswer] = useState("");
  const answered = item.resolution;
  const send = async (body: { optionId: string } | { answer: unknown }) => {
    setBusy(true);
    setError(null);
    try {
      await client.answer(sessionId, item.interactionId, body);
    } catch (err) {
      setError(err instanceof AirlockApiError && err.status === 409 ? "Already answered elsewhere." : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const diffs = (item.toolCall?.content ?? []).filter((c: any) => c.type === "diff");
  const chosen = answered?.optionId ? item.options.find((o) => o.optionId === answered.optionId) : undefined;
  return (
    <div className={`block card interaction ${answered ? "resolved" : "pending"}`} role={answered ? undefined : "alert"}>
      <div className="card-head">
        <span className="kind-icon" aria-hidden>{item.interaction === "permission" ? "!" : "?"}</span>
        <span className="card-title">
          {item.interaction === "permission" ? `Permission: ${item.toolCall?.title ?? "the agent wants to act"}` : item.prompt || "The agent asks"}
        </span>
        {!answered && <span className="pill waiting">Waiting for you</span>}
      </div>
      <div className="card-body">
        {diffs.map((d: any, i: number) => (
          <ContentDiff key={i} path={d.path} oldText={d.oldText ?? null} newText={d.newText ?? ""} />
        ))}
        {answered ? (
          <div className="resolution">
            {answered.outcome === "cancelled"
              ? "Cancelled: the turn ended before an answer."
              : chosen
                ? `Answered “${chosen.name}”`
                : `Answered: ${typeof answered.answer === "string" ? answered.answer : JSON.stringify(answered.answer)}`}
            {answered.by && answered.outcome !== "cancelled" ? <span className="muted"> · by {answered.by}</span> : null}
          </div>
        ) : item.interaction === "permission" ? (
          <div className="actions">
            {item.options.map((o) => (
              <button key={o.optionId} className={`btn ${o.kind.startsWith("allow") ? (o.kind === "allow_once" ? "primary" : "") : "danger"}`} disabled={busy} onClick={() => send({ optionId: o.optionId })}>
                {o.name}
              </button>
            ))}
          </div>
        ) : (
          <form
            className="actions"
            onSubmit={(e) => {
              e.preventDefault();
              if (answer.trim()) void send({ answer: answer.trim() });
            }}
          >
            <input aria-label="Your answer" value={answer} onChange={(e) => setAnswer(e.target.value)} placeholder="Your answer" />
            <button className="btn primary" disabled={busy || !answer.trim()}>
              Answer
            </button>
          </form>
        )}
        {error && <div className="form-error">{error}</div>}
      </div>
    </div>
  );
});
