/** The workspace's folders, opened on demand; a click on a file opens it in the viewer. */
import { useCallback, useEffect, useRef, useState } from "react";
import type { WorkspaceEntry } from "@airlock/client";
import { client } from "../api/client.ts";
import { FileTreeNode, type TreeEntry } from "./file-tree-node.tsx";

type Listing = { entries: TreeEntry[] } | { error: string } | "loading";

export function FileTree({ sessionId, version, selected, onOpen }: { sessionId: string; version: number; selected: string | null; onOpen(path: string): void }) {
  const [listings, setListings] = useState<Record<string, Listing>>({ "": "loading" });
  const [expanded, setExpanded] = useState<Set<string>>(() => new Set([""]));
  const expandedRef = useRef(expanded);
  expandedRef.current = expanded;

  const load = useCallback(
    async (path: string) => {
      try {
        const entry: WorkspaceEntry = await client.sessions.files(sessionId, path);
        const entries = entry.type === "dir" ? [...entry.entries].sort((a, b) => (a.type === "dir") === (b.type === "dir") ? a.name.localeCompare(b.name) : a.type === "dir" ? -1 : 1) : [];
        setListings((all) => ({ ...all, [path]: { entries } }));
      } catch (err) {
        setListings((all) => ({ ...all, [path]: { error: (err as Error).message } }));
      }
    },
    [sessionId],
  );

  // Reload every open folder when the workspace may have changed.
  useEffect(() => {
    for (const path of expandedRef.current) void load(path);
  }, [load, version]);

  const toggle = (path: string) => {
    setExpanded((all) => {
      const next = new Set(all);
      if (next.has(path)) next.delete(path);
      else {
        next.add(path);
        if (!listings[path] || "error" in (listings[path] as object)) {
          setListings((l) => ({ ...l, [path]: "loading" }));
          void load(path);
        }
      }
      return next;
    });
  };

  const render = (path: string, depth: number): React.ReactNode => {
    const listing = listings[path];
    if (!listing || listing === "loading") return <li className="tree-status" style={{ paddingLeft: 12 + depth * 14 }}>Loading…</li>;
    if ("error" in listing) return <li className="tree-status error" style={{ paddingLeft: 12 + depth * 14 }}>{listing.error}</li>;
    if (listing.entries.length === 0) return <li className="tree-status" style={{ paddingLeft: 12 + depth * 14 }}>{depth === 0 ? "The workspace is empty." : "Empty folder"}</li>;
    return listing.entries.map((e) => {
      const child = path ? `${path}/${e.name}` : e.name;
      const open = expanded.has(child);
      return (
        <FileTreeNode key={child} entry={e} path={child} depth={depth} open={open} selected={selected === child} onToggle={toggle} onOpen={onOpen}>
          {e.type === "dir" && open ? <ul role="group">{render(child, depth + 1)}</ul> : null}
        </FileTreeNode>
      );
    });
  };

  return (
    <ul className="file-tree" role="tree" aria-label="Workspace files">
      {render("", 0)}
    </ul>
  );
}
