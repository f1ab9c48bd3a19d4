/** A status line in the conversation: a stop, a failure, an error from the agent or the server. */
import { memo } from "react";
import type { ItemOf } from "../state/view.ts";
import { AlertIcon, InfoIcon } from "./icons.tsx";

export const Notice = memo(function Notice({ item }: { item: ItemOf<"notice"> }) {
  return (
    <div className={`notice ${item.tone}`} role={item.tone === "bad" ? "alert" : undefined}>
      {item.tone === "info" ? <InfoIcon size={15} /> : <AlertIcon size={15} />}
      <div className="notice-text">
        <span className="notice-title">{item.title}</span>
        {item.detail && <pre className="notice-detail">{item.detail}</pre>}
      </div>
    </div>
  );
});
