import { useState } from "react";
import { setApiKey } from "../api/client.ts";

/** Shown when the server wants an API key: it is kept in this browser only. */
export function ApiKeyDialog({ onDone }: { onDone(): void }) {
  const [key, setKey] = useState("");
  return (
    <div className="dialog-backdrop">
      <form
        className="dialog card"
        onSubmit={(e) => {
          e.preventDefault();
          setApiKey(key.trim());
          onDone();
        }}
      >
        <h2>API key needed</h2>
        <p className="muted">This Airlock server requires an API key. Create one with <code>npm run airlock -- keys create</code>.</p>
        <label className="field">
          <span>API key</span>
          <input value={key} onChange={(e) => setKey(e.target.value)} autoFocus type="password" />
        </label>
        <button className="btn primary" disabled={!key.trim()}>
          Save
        </button>
      </form>
    </div>
  );
}
