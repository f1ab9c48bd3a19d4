/** One row of the file tree: a folder that opens in place, or a file that opens in the viewer. */
import type { ReactNode } from "react";
import { bytes } from "../state/format.ts";
import { ChevronIcon, FileIcon, FolderIcon } from "./icons.tsx";

export interface TreeEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
  size: number;
}

interface Props {
  entry: TreeEntry;
  path: string;
  depth: number;
  open: boolean;
  selected: boolean;
  onToggle(path: string): void;
  onOpen(path: string): void;
  children?: ReactNode;
}

export function FileTreeNode({ entry, path, depth, open, selected, onToggle, onOpen, children }: Props) {
  const dir = entry.type === "dir";
  return (
    <li role="treeitem" aria-expanded={dir ? open : undefined} aria-selected={selected}>
      <button
        type="button"
        className={`tree-row${selected ? " selected" : ""}`}
        style={{ paddingLeft: 8 + depth * 14 }}
        onClick={() => (dir ? onToggle(path) : onOpen(path))}
      >
        {dir ? <ChevronIcon size={12} className={`tree-chevron${open ? " open" : ""}`} /> : <span className="tree-spacer" />}
        {dir ? <FolderIcon size={14} className="tree-folder" /> : <FileIcon size={14} />}
        <span className="tree-name">{entry.name}</span>
        {!dir && <span className="tree-size">{bytes(entry.size)}</span>}
      </button>
      {children}
    </li>
  );
}
