/** A command's output with its ANSI colours, in a bounded pane that follows the end while the command runs. */
import Anser from "anser";
import { memo, useLayoutEffect, useMemo, useRef } from "react";
import type { TerminalState } from "../state/view.ts";
import { TerminalIcon } from "./icons.tsx";

export const TerminalView = memo(function TerminalView({ terminal, command }: { terminal: TerminalState; command?: string }) {
  const html = useMemo(() => Anser.ansiToHtml(Anser.escapeForHtml(terminal.output), { use_classes: true }), [terminal.output]);
  const pane = useRef<HTMLPreElement>(null);
  const follow = useRef(true);
  useLayoutEffect(() => {
    const el = pane.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [html]);
  const state = !terminal.done ? "running" : terminal.exitCode === 0 ? "ok" : "bad";
  return (
    <div className="terminal" role="group" aria-label={command ? `Output of ${command}` : "Terminal output"}>
      <div className="terminal-head">
        <TerminalIcon size={14} />
        <span className="terminal-cmd">{command ?? terminal.terminalId}</span>
        <span className={`terminal-state ${state}`}>
          {state === "running" ? (
            <>
              <span className="spinner" aria-hidden /> running
            </>
          ) : terminal.signal ? (
            `killed (${terminal.signal})`
          ) : (
            `exit ${terminal.exitCode ?? "?"}`
          )}
        </span>
      </div>
      {terminal.clipped && <div className="terminal-clipped">Earlier output was cut; showing the last 512 KB.</div>}
      <pre
        ref={pane}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
        dangerouslySetInnerHTML={{ __html: html || '<span class="terminal-empty">No output yet</span>' }}
      />
    </div>
  );
});
