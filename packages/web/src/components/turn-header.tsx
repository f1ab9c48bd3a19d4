/** Where a turn begins: a divider and the prompt the user sent. */
import { memo } from "react";
import { clock } from "../state/format.ts";
import type { ItemOf } from "../state/view.ts";
import { FileIcon } from "./icons.tsx";

export const TurnHeader = memo(function TurnHeader({ item, first }: { item: ItemOf<"turn">; first: boolean }) {
  return (
    <div className={`turn-header${first ? " first" : ""}`}>
      {!first && <hr className="turn-divider" />}
      <div className="user-bubble">
        <div className="user-text">{item.text}</div>
        {item.attachments.length > 0 && (
          <div className="attachments">
            {item.attachments.map((a, i) => (
              <span key={i} className="chip">
                <FileIcon size={12} /> {a}
              </span>
            ))}
          </div>
        )}
      </div>
      <time className="turn-time" dateTime={item.at}>
        {clock(item.at)}
      </time>
    </div>
  );
});
