/** The agent's plan as a checklist with progress; it updates in place as entries change. */
import { memo } from "react";
import type { ItemOf } from "../state/view.ts";
import { CheckIcon, ListIcon } from "./icons.tsx";

export const PlanCard = memo(function PlanCard({ item }: { item: ItemOf<"plan"> }) {
  const done = item.entries.filter((e) => e.status === "completed").length;
  const total = item.entries.length;
  return (
    <section className="card plan" aria-label="Plan">
      <header className="card-head">
        <span className="kind-icon" aria-hidden>
          <ListIcon />
        </span>
        <span className="card-title">Plan</span>
        <span className="card-meta">
          {done}/{total} done
        </span>
      </header>
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={total} aria-valuenow={done} aria-label="Plan progress">
        <span style={{ width: `${total ? (done / total) * 100 : 0}%` }} />
      </div>
      <ol className="checklist">
        {item.entries.map((e, i) => (
          <li key={i} className={`check-${e.status}`}>
            <span className="check-box" aria-hidden>
              {e.status === "completed" ? <CheckIcon size={12} strokeWidth={2.6} /> : e.status === "in_progress" ? <span className="spinner" /> : null}
            </span>
            <span className="check-text">{e.content}</span>
            <span className="sr-only">({e.status.replace("_", " ")})</span>
          </li>
        ))}
      </ol>
    </section>
  );
});
