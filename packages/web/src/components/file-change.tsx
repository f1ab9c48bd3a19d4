/** A file the agent created, changed or deleted: one compact line that opens to the diff. */
import { memo, useMemo, useState } from "react";
import { parseUnifiedDiff } from "../state/diff.ts";
import type { ItemOf } from "../state/view.ts";
import { DiffStat } from "./diff-stat.tsx";
import { DiffView } from "./diff-view.tsx";
import { ChevronIcon, FileIcon } from "./icons.tsx";

const verbs = { created: "Created", modified: "Edited", deleted: "Deleted" } as const;

export const FileChange = memo(function FileChange({ item }: { item: ItemOf<"file"> }) {
  const [open, setOpen] = useState(false);
  const file = useMemo(() => parseUnifiedDiff(item.diff)[0], [item.diff]);
  // A binary or large file comes with a one-line summary ("@@ binary file, 52428800 bytes @@") instead of a diff.
  const summary = useMemo(() => /^@@ ([^-+].*) @@$/m.exec(item.diff)?.[1], [item.diff]);
  return (
    <div className={`file-change ${item.change}${open ? " open" : ""}`}>
      <button type="button" className="file-change-row" aria-expanded={open} onClick={() => setOpen(!open)}>
        <FileIcon size={14} />
        <span className="file-change-verb">{verbs[item.change]}</span>
        <code className="file-change-path">{item.path}</code>
        {file && <DiffStat added={file.added} removed={file.removed} />}
        <ChevronIcon size={14} className="chevron" />
      </button>
      {open && (file && file.hunks.length > 0 ? <DiffView file={file} showHeader={false} /> : <div className="diff-note">{summary ? `No diff: ${summary}.` : "No line changes to show."}</div>)}
      {open && item.truncated && !summary && <div className="diff-note">The diff was cut; the Changes tab has all of it.</div>}
    </div>
  );
});
