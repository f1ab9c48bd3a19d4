/** The sandbox's workspace: a file tree, a file viewer, and the session's diff; refreshed as files change. */
import { useCallback, useEffect, useState } from "react";
import type { WorkspaceEntry } from "@airlock/protocol";
import { client } from "../api/client.ts";
import { DiffView } from "./diff-view.tsx";

export function WorkspacePanel({ sessionId, version, onClose }: { sessionId: string; version: number; onClose(): void }) {
  const [tab, setTab] = useState<"files" | "diff">("files");
  const [path, setPath] = useState("");
  const [entry, setEntry] = useState<WorkspaceEntry | null>(null);
  const [diff, setDiff] = useState<string>("");
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    setError(null);
    if (tab === "files") client.files(sessionId, path).then(setEntry, (e) => setError(e.message));
    else client.diff(sessionId).then(setDiff, (e) => setError(e.message));
  }, [sessionId, path, tab]);
  useEffect(load, [load, version]);

  const parent = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  return (
    <aside className="workspace" aria-label="Workspace">
      <div className="workspace-head">
        <div className="tabs" role="tablist">
          <button role="tab" aria-selected={tab === "files"} onClick={() => setTab("files")}>
            Files
          </button>
          <button role="tab" aria-selected={tab === "diff"} onClick={() => setTab("diff")}>
            Changes
          </button>
        </div>
        <button className="icon-btn" aria-label="Close the workspace panel" onClick={onClose}>
          ✕
        </button>
      </div>
      <div className="workspace-body">
        {error && <div className="muted">{error}</div>}
        {tab === "diff" ? (
          diff ? <DiffView diff={diff} /> : !error && <div className="muted">No changes yet.</div>
        ) : (
          entry && (
            <>
              <div className="crumbs">
                <button className="link" onClick={() => setPath("")}>
                  workspace
                </button>
                {path && <span> / {path}</span>}
              </div>
              {entry.type === "dir" ? (
                <ul className="tree">
                  {path && (
                    <li>
                      <button className="link" onClick={() => setPath(parent)}>
                        ..
                      </button>
                    </li>
                  )}
                  {entry.entries.map((e) => (
                    <li key={e.name}>
                      <button className="link" onClick={() => setPath(path ? `${path}/${e.name}` : e.name)}>
                        <FileIcon dir={e.type === "dir"} />
                        {e.name}
                      </button>
                      {e.type === "file" && <span className="muted small"> {formatSize(e.size)}</span>}
                    </li>
                  ))}
                  {entry.entries.length === 0 && <li className="muted">empty</li>}
                </ul>
              ) : (
                <>
                  <button className="link" onClick={() => setPath(parent)}>
                    ← back
                  </button>
                  <pre className="file-view">{entry.encoding === "base64" ? "(binary file)" : entry.content}</pre>
                  {entry.truncated && <div className="muted small">Showing the first megabyte.</div>}
                </>
              )}
            </>
          )
        )}
      </div>
    </aside>
  );
}

const formatSize = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

function FileIcon({ dir }: { dir: boolean }) {
  return (
    <svg className="file-icon" viewBox="0 0 16 16" aria-hidden>
      {dir ? (
        <path d="M1.5 3.5h5l1.5 1.5h6.5v8h-13z" fill="currentColor" opacity="0.55" />
      ) : (
        <path d="M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3" fill="none" stroke="currentColor" strokeWidth="1.2" />
      )}
    </svg>
  );
}
