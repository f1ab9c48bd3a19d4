/**
 * The sandbox's workspace beside the conversation: a file tree with a viewer, and the session's changes. Both
 * refresh when the agent changes files (`file.changed`, finished tool calls), at most a few times a second.
 */
import { useCallback, useEffect, useState } from "react";
import { BackIcon, RefreshIcon, XIcon } from "./icons.tsx";
import { ChangesView } from "./changes-view.tsx";
import { FileTree } from "./file-tree.tsx";
import { FileViewer } from "./file-viewer.tsx";
import { ServicesView } from "./services-view.tsx";

interface Props {
  sessionId: string;
  version: number;
  /** False once the sandbox is gone (the session's `hasWorkspace`, not its status: a failed session keeps it). */
  available: boolean;
  /** True while the sandbox is being made: nothing to read yet. */
  starting: boolean;
  /** The session has setup services: a third tab shows them; `servicesVersion` changes with their events. */
  hasServices?: boolean;
  servicesVersion?: number;
  onClose(): void;
}

export function WorkspacePanel({ sessionId, version, available, starting, hasServices, servicesVersion = 0, onClose }: Props) {
  const [tab, setTab] = useState<"files" | "changes" | "services">("files");
  const [openFile, setOpenFile] = useState<string | null>(null);
  const [changed, setChanged] = useState(0);
  const [manual, setManual] = useState(0);
  // Debounced: a burst of file events reloads once.
  const [settled, setSettled] = useState(version);
  useEffect(() => {
    const t = setTimeout(() => setSettled(version), 400);
    return () => clearTimeout(t);
  }, [version]);
  const stamp = settled * 1000 + manual;
  const onCount = useCallback((n: number) => setChanged(n), []);

  return (
    <aside className="workspace" aria-label="Workspace">
      <div className="workspace-head">
        <div className="tabs" role="tablist" aria-label="Workspace views">
          <button type="button" role="tab" id="ws-tab-files" aria-controls="ws-panel" aria-selected={tab === "files"} onClick={() => setTab("files")}>
            Files
          </button>
          <button type="button" role="tab" id="ws-tab-changes" aria-controls="ws-panel" aria-selected={tab === "changes"} onClick={() => setTab("changes")}>
            Changes{changed > 0 && <span className="tab-count">{changed}</span>}
          </button>
          {hasServices && (
            <button type="button" role="tab" id="ws-tab-services" aria-controls="ws-panel" aria-selected={tab === "services"} onClick={() => setTab("services")}>
              Services
            </button>
          )}
        </div>
        <button type="button" className="btn ghost icon-only" aria-label="Refresh the workspace" title="Refresh" onClick={() => setManual((n) => n + 1)}>
          <RefreshIcon size={15} />
        </button>
        <button type="button" className="btn ghost icon-only" aria-label="Close the workspace panel" title="Close" onClick={onClose}>
          <XIcon size={15} />
        </button>
      </div>
      <div className="workspace-body" id="ws-panel" role="tabpanel" aria-labelledby={`ws-tab-${tab}`}>
        {tab === "services" && hasServices ? (
          <ServicesView sessionId={sessionId} version={servicesVersion * 1000 + manual} />
        ) : starting ? (
          <div className="viewer-status">
            <span className="spinner" aria-hidden /> The sandbox is starting; its files appear here once it is up.
          </div>
        ) : !available ? (
          <div className="viewer-status">This session has no sandbox any more (it was deleted, or never made), so there are no files to read. The conversation keeps every change the agent reported.</div>
        ) : (
          <>
            {/* Both views stay mounted: the tree keeps its open folders, and the Changes count stays current. */}
            <div hidden={tab !== "changes"}>
              <ChangesView sessionId={sessionId} version={stamp} onCount={onCount} />
            </div>
            <div hidden={tab !== "files"}>
              {openFile && (
                <div className="file-open">
                  <div className="file-crumbs">
                    <button type="button" className="btn ghost small" onClick={() => setOpenFile(null)}>
                      <BackIcon size={14} /> Files
                    </button>
                    <span className="file-crumb-path" title={openFile}>
                      {openFile}
                    </span>
                  </div>
                  <FileViewer sessionId={sessionId} path={openFile} version={stamp} />
                </div>
              )}
              <div hidden={openFile !== null}>
                <FileTree sessionId={sessionId} version={stamp} selected={openFile} onOpen={setOpenFile} />
              </div>
            </div>
          </>
        )}
      </div>
    </aside>
  );
}
