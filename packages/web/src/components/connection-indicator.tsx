/** Whether the live event stream is connected: a dot and a word, announced politely when it changes. */
import type { SubscriptionStatus } from "@airlock/client";

const words: Record<SubscriptionStatus, string> = { connecting: "Connecting", live: "Live", reconnecting: "Reconnecting", ended: "Ended" };

export function ConnectionIndicator({ status }: { status: SubscriptionStatus | null }) {
  const s = status ?? "connecting";
  return (
    <span className={`connection ${s}`} role="status" title={s === "ended" ? "The session is over; its whole log is shown." : `Event stream: ${words[s].toLowerCase()}`}>
      <span className="connection-dot" aria-hidden />
      <span className="connection-word">{words[s]}</span>
    </span>
  );
}
