/** The agents the server knows, as choices; one that cannot run here is shown disabled with why and the fix. */
import type { AgentView } from "@airlock/client";
import { AlertIcon, CheckIcon } from "./icons.tsx";

export function AgentPicker({ agents, value, onChange }: { agents: AgentView[] | null; value: string; onChange(name: string): void }) {
  if (agents === null) {
    return (
      <div className="agent-grid" aria-busy="true">
        <div className="agent-option skeleton" />
        <div className="agent-option skeleton" />
      </div>
    );
  }
  return (
    <div className="agent-grid" role="radiogroup" aria-label="Agent">
      {agents.map((a) => {
        const selected = a.name === value;
        return (
          <label key={a.name} className={`agent-option${a.available ? "" : " unavailable"}${selected ? " selected" : ""}`}>
            <input type="radio" name="agent" value={a.name} checked={selected} disabled={!a.available} onChange={() => onChange(a.name)} className="sr-only" />
            <span className="agent-head">
              <span className="agent-title">{a.title}</span>
              {selected && <CheckIcon size={15} className="agent-check" strokeWidth={2.4} />}
            </span>
            {a.available ? (
              <span className="agent-desc">{a.description}</span>
            ) : (
              <span className="agent-why">
                <span className="agent-reason">
                  <AlertIcon size={13} /> {capitalize(a.reason ?? "not available")}
                </span>
                {a.fix && <span className="agent-fix">{capitalize(a.fix)}</span>}
              </span>
            )}
          </label>
        );
      })}
    </div>
  );
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
