/** Provisioning of the sandbox, step by step; a single quiet line once it is ready. */
import { memo } from "react";
import type { ItemOf } from "../state/view.ts";
import { AlertIcon, BoxIcon, CheckIcon } from "./icons.tsx";

export const SetupCard = memo(function SetupCard({ item }: { item: ItemOf<"setup"> }) {
  if (item.done && !item.failed) {
    return (
      <div className="setup done">
        <BoxIcon size={14} /> Sandbox ready
      </div>
    );
  }
  return (
    <section className={`card setup-card${item.failed ? " failed" : ""}`} aria-label="Sandbox setup" aria-live="polite">
      <header className="card-head">
        <span className="kind-icon" aria-hidden>
          <BoxIcon />
        </span>
        <span className="card-title">{item.failed ? "The sandbox could not start" : "Setting up the sandbox"}</span>
      </header>
      <ol className="checklist">
        {item.steps.map((s, i) => {
          const current = i === item.steps.length - 1 && !item.done;
          return (
            <li key={i} className={current ? "check-in_progress" : "check-completed"}>
              <span className="check-box" aria-hidden>
                {current ? <span className="spinner" /> : <CheckIcon size={12} strokeWidth={2.6} />}
              </span>
              <span className="check-text">{s[0].toUpperCase() + s.slice(1)}</span>
            </li>
          );
        })}
        {item.steps.length === 0 && !item.done && (
          <li className="check-in_progress">
            <span className="check-box" aria-hidden>
              <span className="spinner" />
            </span>
            <span className="check-text">Preparing</span>
          </li>
        )}
      </ol>
      {item.failed && (
        <div className="setup-error">
          <AlertIcon size={14} /> {item.failed}
        </div>
      )}
    </section>
  );
});
