/** One workspace file, highlighted by its extension, with line numbers; re-read when the workspace changes. */
import { useEffect, useMemo, useState } from "react";
import type { WorkspaceEntry } from "@airlock/client";
import { client } from "../api/client.ts";
import { bytes } from "../state/format.ts";
import { highlight, languageOf } from "../lib/highlight.ts";

type Loaded = Extract<WorkspaceEntry, { type: "file" }>;

export function FileViewer({ sessionId, path, version }: { sessionId: string; path: string; version: number }) {
  const [file, setFile] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    client.sessions.files(sessionId, path).then(
      (entry) => {
        if (!alive) return;
        if (entry.type === "file") {
          setFile(entry);
          setError(null);
        } else setError("This is a folder.");
      },
      (err: Error) => alive && setError(err.message),
    );
    return () => {
      alive = false;
    };
  }, [sessionId, path, version]);

  const lines = useMemo(() => {
    if (!file || file.encoding !== "utf8") return null;
    const { html } = highlight(file.content, languageOf(path));
    // Split highlighted HTML by line, re-opening spans that cross a line break.
    const out: string[] = [];
    let open: string[] = [];
    for (const raw of html.split("\n")) {
      const line = open.join("") + raw;
      for (const m of raw.matchAll(/<span[^>]*>|<\/span>/g)) {
        if (m[0] === "</span>") open.pop();
        else open.push(m[0]);
      }
      out.push(line + "</span>".repeat(open.length));
    }
    if (out.length > 1 && out.at(-1) === "") out.pop();
    return out;
  }, [file, path]);

  if (error) return <div className="viewer-status error">{error}</div>;
  if (!file) return <div className="viewer-status">Loading…</div>;
  return (
    <div className="file-viewer">
      <div className="viewer-meta">
        {bytes(file.size)}
        {lines ? ` · ${lines.length.toLocaleString()} lines` : ""}
        {file.truncated ? " · showing the beginning" : ""}
      </div>
      {file.encoding === "base64" ? (
        <div className="viewer-status">Binary file — not shown.</div>
      ) : (
        <div className="viewer-code" tabIndex={0} aria-label={`Contents of ${path}`}>
          <table>
            <tbody>
              {lines!.map((l, i) => (
                <tr key={i}>
                  <td className="ln" aria-hidden>
                    {i + 1}
                  </td>
                  <td className="code hljs" dangerouslySetInnerHTML={{ __html: l || " " }} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
