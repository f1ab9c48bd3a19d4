/**
 * Provisioning of the sandbox, step by step, with each setup command's output under its step; a single quiet
 * line once it is ready (the setup commands' output stays a click away).
 */
import { memo } from "react";
import type { ItemOf, TerminalState } from "../state/view.ts";
import { AlertIcon, BoxIcon, CheckIcon } from "./icons.tsx";
import { TerminalView } from "./terminal-view.tsx";

/** The terminal of a step "setup N/M: command", if it has one. */
function terminalOf(step: string, terminals: TerminalState[]): { terminal: TerminalState; command: string } | null {
  const m = /^setup (\d+)\/\d+: (.*)$/s.exec(step);
  const terminal = m ? terminals.find((t) => t.terminalId === `setup-${m[1]}`) : undefined;
  return terminal ? { terminal, command: m![2] } : null;
}

export const SetupCard = memo(function SetupCard({ item }: { item: ItemOf<"setup"> }) {
  const terminals = item.terminals ?? [];
  if (item.done && !item.failed) {
    if (terminals.length === 0) {
      return (
        <div className="setup done">
          <BoxIcon size={14} /> Sandbox ready
        </div>
      );
    }
    return (
      <details className="setup done setup-details">
        <summary>
          <BoxIcon size={14} /> Sandbox ready · {terminals.length} setup command{terminals.length === 1 ? "" : "s"}
        </summary>
        <Steps item={item} terminals={terminals} />
      </details>
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
      <Steps item={item} terminals={terminals} />
      {item.failed && (
        <div className="setup-error">
          <AlertIcon size={14} /> <span className="setup-error-text">{item.failed}</span>
        </div>
      )}
    </section>
  );
});

function Steps({ item, terminals }: { item: ItemOf<"setup">; terminals: TerminalState[] }) {
  return (
    <ol className="checklist">
      {item.steps.map((s, i) => {
        const current = i === item.steps.length - 1 && !item.done;
        const run = terminalOf(s, terminals);
        const bad = run?.terminal.done && run.terminal.exitCode !== 0;
        return (
          <li key={i} className={bad ? "check-failed" : current ? "check-in_progress" : "check-completed"}>
            <span className="check-box" aria-hidden>
              {bad ? <AlertIcon size={12} /> : current ? <span className="spinner" /> : <CheckIcon size={12} strokeWidth={2.6} />}
            </span>
            <span className="check-text">{s[0].toUpperCase() + s.slice(1)}</span>
            {run && (run.terminal.output || !run.terminal.done) && (
              <div className="setup-output">
                <TerminalView terminal={run.terminal} command={run.command} />
              </div>
            )}
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
  );
}
