/** One file's unified diff: line numbers, added and removed lines coloured, long diffs shown in part first. */
import { memo, useState } from "react";
import type { DiffFile } from "../state/diff.ts";
import { DiffStat } from "./diff-stat.tsx";

const initialLines = 300;

export const DiffView = memo(function DiffView({ file, showHeader = true }: { file: DiffFile; showHeader?: boolean }) {
  const [all, setAll] = useState(false);
  const total = file.hunks.reduce((n, h) => n + h.lines.length + 1, 0);
  let budget = all ? Infinity : initialLines;
  return (
    <div className="diff" role="group" aria-label={`Changes to ${file.path}`}>
      {showHeader && (
        <div className="diff-head">
          <span className="diff-path">{file.path}</span>
          <DiffStat added={file.added} removed={file.removed} />
        </div>
      )}
      {file.binary ? (
        <div className="diff-note">Binary file changed</div>
      ) : file.hunks.length === 0 ? (
        <div className="diff-note">{file.status === "added" ? "Empty file" : "No content changes"}</div>
      ) : (
        <div className="diff-body">
          <table>
            <tbody>
              {file.hunks.map((h, hi) => {
                if (budget <= 0) return null;
                const lines = h.lines.slice(0, budget);
                budget -= lines.length + 1;
                return [
                  <tr key={`h${hi}`} className="hunk">
                    <td className="ln" colSpan={2} />
                    <td className="code">{h.header}</td>
                  </tr>,
                  ...lines.map((l, li) => (
                    <tr key={`${hi}-${li}`} className={l.type}>
                      <td className="ln" aria-hidden>{l.oldNo ?? ""}</td>
                      <td className="ln" aria-hidden>{l.newNo ?? ""}</td>
                      <td className="code">
                        <span className="sign" aria-label={l.type === "add" ? "added" : l.type === "del" ? "removed" : undefined}>
                          {l.type === "add" ? "+" : l.type === "del" ? "−" : " "}
                        </span>
                        {l.text || " "}
                      </td>
                    </tr>
                  )),
                ];
              })}
            </tbody>
          </table>
        </div>
      )}
      {!all && total > initialLines && (
        <button type="button" className="diff-more" onClick={() => setAll(true)}>
          Show all {total.toLocaleString()} lines
        </button>
      )}
    </div>
  );
});
