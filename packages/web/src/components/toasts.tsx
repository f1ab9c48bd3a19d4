/** The toast stack in a corner, announced to screen readers as it changes. */
import { useSyncExternalStore } from "react";
import { dismissToast, toastStore } from "../state/toasts.ts";
import { AlertIcon, CheckIcon, InfoIcon, XIcon } from "./icons.tsx";

export function Toasts() {
  const toasts = useSyncExternalStore(toastStore.subscribe, toastStore.get);
  return (
    <div className="toasts" aria-live="polite" aria-relevant="additions">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.tone}`} role={t.tone === "bad" ? "alert" : "status"}>
          <span className="toast-icon" aria-hidden>
            {t.tone === "ok" ? <CheckIcon size={16} /> : t.tone === "info" ? <InfoIcon size={16} /> : <AlertIcon size={16} />}
          </span>
          <div className="toast-text">
            <div className="toast-title">{t.title}</div>
            {t.body && <div className="toast-body">{t.body}</div>}
          </div>
          {t.action && (
            <button
              type="button"
              className="btn small"
              onClick={() => {
                t.action!.run();
              }}
            >
              {t.action.label}
            </button>
          )}
          <button type="button" className="btn ghost icon-only small" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            <XIcon size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}
