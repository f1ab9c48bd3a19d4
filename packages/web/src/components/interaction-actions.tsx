/**
 * The human part of an interaction: the agent's options as buttons (permission), or a form (question); once
 * resolved — here, in another tab, or by the turn ending — what was chosen. A 409 means someone was first.
 */
import { memo, useState } from "react";
import { AirlockApiError } from "@airlock/client";
import { client } from "../api/client.ts";
import { answeredBy, answeredFields } from "../state/answer.ts";
import type { InteractionState } from "../state/view.ts";
import { CheckIcon, XIcon } from "./icons.tsx";
import { QuestionForm } from "./question-form.tsx";

const optionClass = (kind: string) => (kind === "allow_once" ? "btn primary" : kind.startsWith("allow") ? "btn" : "btn danger-outline");

export const InteractionActions = memo(function InteractionActions({ sessionId, interaction }: { sessionId: string; interaction: InteractionState }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** This tab's answer was the one taken: it says "by you". */
  const [answeredHere, setAnsweredHere] = useState(false);
  const resolution = interaction.resolution;

  const send = async (body: { optionId: string } | { answer: unknown }, label: string) => {
    setBusy(label);
    setError(null);
    try {
      await client.sessions.answer(sessionId, interaction.interactionId, body);
      setAnsweredHere(true);
    } catch (err) {
      setError(AirlockApiError.is(err) && err.status === 409 ? "Already answered — another tab or client was first." : (err as Error).message);
    } finally {
      setBusy(null);
    }
  };

  if (resolution) {
    const chosen = resolution.optionId ? interaction.options.find((o) => o.optionId === resolution.optionId) : undefined;
    const denied = resolution.outcome === "cancelled" || resolution.outcome === "declined" || Boolean(chosen?.kind.startsWith("reject"));
    const answered = !chosen && resolution.outcome !== "cancelled" && resolution.outcome !== "declined" ? answeredFields(resolution.answer, interaction.schema) : null;
    const what =
      resolution.outcome === "cancelled"
        ? "Not answered: the turn ended first"
        : resolution.outcome === "declined"
          ? "Declined"
          : chosen
            ? chosen.name
            : typeof answered === "string"
              ? `Answered: ${answered}`
              : "Answered";
    const by = resolution.outcome !== "cancelled" ? answeredBy(resolution.by, answeredHere) : null;
    return (
      <div className={`resolution ${denied ? "denied" : "granted"}`} role="status">
        <div className="resolution-line">
          {denied ? <XIcon size={14} /> : <CheckIcon size={14} />}
          <span className="resolution-what">{what}</span>
          {by && <span className="resolution-by">{by}</span>}
        </div>
        {Array.isArray(answered) && answered.length > 0 && (
          <dl className="answer-fields">
            {answered.map((f) => (
              <div key={f.label} className="answer-field">
                <dt>{f.label}</dt>
                <dd>{f.value}</dd>
              </div>
            ))}
          </dl>
        )}
      </div>
    );
  }

  return (
    <div className="interaction-actions">
      {interaction.kind === "permission" ? (
        <div className="option-buttons" role="group" aria-label="Your decision">
          {interaction.options.map((o) => (
            <button key={o.optionId} type="button" className={optionClass(o.kind)} disabled={busy !== null} onClick={() => void send({ optionId: o.optionId }, o.optionId)}>
              {busy === o.optionId && <span className="spinner" aria-hidden />}
              {o.name}
            </button>
          ))}
          {interaction.options.length === 0 && <span className="muted">The agent offered no options.</span>}
        </div>
      ) : (
        <QuestionForm schema={interaction.schema} busy={busy !== null} onAnswer={(answer) => void send({ answer }, "answer")} />
      )}
      {error && (
        <div className="inline-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
});
