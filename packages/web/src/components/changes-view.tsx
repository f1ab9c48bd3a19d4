/** Every change in the workspace since the session began, file by file, each one foldable. */
import { useEffect, useMemo, useState } from "react";
import { client } from "../api/client.ts";
import { parseUnifiedDiff } from "../state/diff.ts";
import { DiffStat } from "./diff-stat.tsx";
import { DiffView } from "./diff-view.tsx";
import { ChevronIcon } from "./icons.tsx";

export function ChangesView({ sessionId, version, onCount }: { sessionId: string; version: number; onCount(n: number): void }) {
  const [diff, setDiff] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [incomplete, setIncomplete] = useState<string[] | null>(null);
  const [closed, setClosed] = useState<Set<string>>(() => new Set());
  useEffect(() => {
    let alive = true;
    client.sessions.diff(sessionId).then(
      (d) => {
        if (!alive) return;
        setDiff(d.diff);
        setIncomplete(d.truncated ? d.notes : null);
        setError(null);
      },
      (err: Error) => alive && setError(err.message),
    );
    return () => {
      alive = false;
    };
  }, [sessionId, version]);
  const files = useMemo(() => (diff ? parseUnifiedDiff(diff) : []), [diff]);
  useEffect(() => onCount(files.length), [files.length, onCount]);

  if (error) return <div className="viewer-status error">{error}</div>;
  if (diff === null) return <div className="viewer-status">Loading…</div>;
  if (files.length === 0) return <div className="viewer-status">No changes yet. Files the agent writes show up here.</div>;
  const added = files.reduce((n, f) => n + f.added, 0);
  const removed = files.reduce((n, f) => n + f.removed, 0);
  return (
    <div className="changes">
      <div className="changes-summary">
        {files.length} file{files.length > 1 ? "s" : ""} changed <DiffStat added={added} removed={removed} />
      </div>
      {incomplete && <div className="viewer-status">Incomplete diff: {incomplete.filter((n) => n.startsWith("incomplete")).join("; ") || "a bound was reached"}</div>}
      {files.map((f) => {
        const open = !closed.has(f.path);
        return (
          <div key={f.path} className="changes-file">
            <button
              type="button"
              className="changes-file-head"
              aria-expanded={open}
              onClick={() =>
                setClosed((all) => {
                  const next = new Set(all);
                  if (open) next.add(f.path);
                  else next.delete(f.path);
                  return next;
                })
              }
            >
              <ChevronIcon size={12} className={`tree-chevron${open ? " open" : ""}`} />
              <span className="changes-path">{f.path}</span>
              <span className={`change-kind ${f.status}`}>{f.status}</span>
              <DiffStat added={f.added} removed={f.removed} />
            </button>
            {open && <DiffView file={f} showHeader={false} />}
          </div>
        );
      })}
    </div>
  );
}
