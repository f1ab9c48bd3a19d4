/**
 * Where the workspace starts from: empty, files uploaded from this computer (sent as `workspace.files`), or a
 * git repository the sandbox clones. Binary files cannot be sent as text and are left out, with a word why.
 */
import { useState } from "react";
import { bytes } from "../state/format.ts";
import { BranchIcon, FolderIcon, UploadIcon } from "./icons.tsx";

export type SourceKind = "empty" | "upload" | "git";
export interface Source {
  kind: SourceKind;
  files: Record<string, string>;
  git: string;
}

async function readTextFiles(list: FileList): Promise<{ files: Record<string, string>; skipped: string[] }> {
  const files: Record<string, string> = {};
  const skipped: string[] = [];
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (const f of Array.from(list)) {
    const path = ((f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name).replace(/^\/+/, "");
    if (path.split("/").some((p) => p === ".git" || p === "node_modules")) continue;
    try {
      files[path] = decoder.decode(await f.arrayBuffer());
    } catch {
      skipped.push(path);
    }
  }
  return { files, skipped };
}

export function WorkspaceSource({ value, onChange }: { value: Source; onChange(next: Source): void }) {
  const [skipped, setSkipped] = useState<string[]>([]);
  const [reading, setReading] = useState(false);
  const names = Object.keys(value.files);
  const total = Object.values(value.files).reduce((n, t) => n + t.length, 0);
  const pick = async (list: FileList | null) => {
    if (!list?.length) return;
    setReading(true);
    const { files, skipped } = await readTextFiles(list);
    setSkipped(skipped);
    setReading(false);
    onChange({ ...value, files: { ...value.files, ...files } });
  };
  const kinds: Array<[SourceKind, string]> = [
    ["empty", "Empty"],
    ["upload", "Upload files"],
    ["git", "Git repository"],
  ];
  return (
    <div className="workspace-source">
      <div className="segmented" role="radiogroup" aria-label="Workspace">
        {kinds.map(([k, label]) => (
          <label key={k} className={value.kind === k ? "selected" : ""}>
            <input type="radio" name="workspace-source" className="sr-only" checked={value.kind === k} onChange={() => onChange({ ...value, kind: k })} />
            {label}
          </label>
        ))}
      </div>
      {value.kind === "upload" && (
        <div className="upload">
          <div className="upload-buttons">
            <label className="btn">
              <UploadIcon size={14} /> Choose files
              <input type="file" multiple className="sr-only" onChange={(e) => void pick(e.target.files)} />
            </label>
            <label className="btn">
              <FolderIcon size={14} /> Choose a folder
              <input type="file" className="sr-only" {...({ webkitdirectory: "", directory: "" } as object)} onChange={(e) => void pick(e.target.files)} />
            </label>
            {names.length > 0 && (
              <button type="button" className="btn ghost small" onClick={() => onChange({ ...value, files: {} })}>
                Clear
              </button>
            )}
          </div>
          <div className="upload-summary" role="status">
            {reading ? "Reading files…" : names.length ? `${names.length} file${names.length > 1 ? "s" : ""}, ${bytes(total)}` : "No files chosen yet."}
            {skipped.length > 0 && ` ${skipped.length} binary file${skipped.length > 1 ? "s" : ""} left out.`}
          </div>
          {names.length > 0 && (
            <ul className="upload-list">
              {names.slice(0, 8).map((n) => (
                <li key={n}>{n}</li>
              ))}
              {names.length > 8 && <li className="muted">and {names.length - 8} more</li>}
            </ul>
          )}
        </div>
      )}
      {value.kind === "git" && (
        <label className="field">
          <span className="field-label">
            <BranchIcon size={13} /> Repository URL
          </span>
          <input type="url" value={value.git} placeholder="https://github.com/owner/repo.git" onChange={(e) => onChange({ ...value, git: e.target.value })} required />
          <span className="field-hint">The sandbox needs network access to clone it.</span>
        </label>
      )}
    </div>
  );
}
