/** Asks for an API key when the server wants one; it is kept in this browser only. */
import { useEffect, useRef, useState } from "react";
import { hasApiKey, setApiKey } from "../api/client.ts";
import { KeyIcon } from "./icons.tsx";

export function ApiKeyDialog({ reason, onDone }: { reason: "required" | "settings"; onDone(changed: boolean): void }) {
  const [key, setKey] = useState("");
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current!;
    if (!d.open) d.showModal();
    return () => d.close();
  }, []);
  return (
    <dialog ref={dialog} className="dialog" aria-labelledby="api-key-title" onCancel={(e) => (reason === "required" ? e.preventDefault() : onDone(false))}>
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          setApiKey(key.trim() || null);
          onDone(true);
        }}
      >
        <div className="dialog-icon" aria-hidden>
          <KeyIcon size={20} />
        </div>
        <h2 id="api-key-title">{reason === "required" ? "This server needs an API key" : "API key"}</h2>
        <p className="muted">
          Create one on the server with <code>npm run airlock -- keys create</code>. It is stored in this browser only.
        </p>
        <label className="field">
          <span className="field-label">API key</span>
          <input value={key} onChange={(e) => setKey(e.target.value)} autoFocus type="password" autoComplete="off" placeholder={hasApiKey() ? "•••••• (saved — enter a new one to replace it)" : "ak_…"} />
        </label>
        <div className="dialog-actions">
          {reason === "settings" && hasApiKey() && (
            <button
              type="button"
              className="btn ghost danger-text"
              onClick={() => {
                setApiKey(null);
                onDone(true);
              }}
            >
              Forget the key
            </button>
          )}
          <span className="spacer" />
          {reason === "settings" && (
            <button type="button" className="btn" onClick={() => onDone(false)}>
              Cancel
            </button>
          )}
          <button className="btn primary" disabled={!key.trim()}>
            Save
          </button>
        </div>
      </form>
    </dialog>
  );
}
