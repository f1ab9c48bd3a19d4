/** User text the agent replayed from an earlier conversation (ACP `user_message_chunk`). */
import { memo } from "react";
import type { ItemOf } from "../state/view.ts";

export const UserText = memo(function UserText({ item }: { item: ItemOf<"user"> }) {
  return (
    <div className="turn-header replayed">
      <div className="user-bubble">
        <div className="user-text">{item.text}</div>
      </div>
    </div>
  );
});
