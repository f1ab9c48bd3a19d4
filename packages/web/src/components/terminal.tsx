import Anser from "anser";
import { memo, useMemo } from "react";

/** Terminal output with its ANSI colours, in a bounded scrolling pane. */
export const Terminal = memo(function Terminal({ output, exitCode, done }: { output: string; exitCode?: number | null; done: boolean }) {
  const html = useMemo(() => Anser.ansiToHtml(Anser.escapeForHtml(output.slice(-200_000)), { use_classes: true }), [output]);
  return (
    <div className="terminal">
      <pre dangerouslySetInnerHTML={{ __html: html || "&nbsp;" }} />
      <div className={`terminal-status ${done ? (exitCode === 0 ? "ok" : "bad") : "running"}`}>{done ? `exit ${exitCode ?? "?"}` : "running…"}</div>
    </div>
  );
});
