/**
 * The conversation: every item in order, then this tab's prompts that have not started yet, then what the
 * agent is doing now. It stays pinned to the bottom while new content arrives, unless the user scrolled up
 * (then a button offers to jump back down). Items far from the end skip layout and paint while off-screen
 * (`content-visibility`), which keeps very long logs cheap without a virtual list fighting the pinned scrolling.
 */
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import type { OutgoingPrompt } from "../api/use-session.ts";
import type { View } from "../state/view.ts";
import { ConversationItem } from "./conversation-item.tsx";
import { EmptyConversation } from "./empty-conversation.tsx";
import { ArrowDownIcon } from "./icons.tsx";
import { QueuedPrompt } from "./queued-prompt.tsx";
import { WorkingIndicator } from "./working-indicator.tsx";

interface Props {
  view: View;
  sessionId: string;
  agent?: string;
  outbox: OutgoingPrompt[];
  caughtUp: boolean;
  onSuggest(text: string): void;
}

export function Conversation({ view, sessionId, agent, outbox, caughtUp, onSuggest }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const [away, setAway] = useState(false);

  useEffect(() => {
    const el = scroller.current!;
    const onScroll = () => {
      const near = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
      pinned.current = near;
      setAway(!near);
    };
    el.addEventListener("scroll", onScroll, { passive: true });
    return () => el.removeEventListener("scroll", onScroll);
  }, []);

  // After each change, keep the newest content in view if the user was at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current!;
    if (pinned.current) el.scrollTop = el.scrollHeight;
  }, [view, outbox, caughtUp]);

  const items = view.items;
  const running = view.runningTurnId !== null;
  const last = items[items.length - 1];
  const streamingKey = running && last && (last.kind === "message" || last.kind === "thought") ? last.key : null;
  const firstTurn = items.find((i) => i.kind === "turn")?.key;
  const visible = items.some((i) => i.kind !== "setup");

  return (
    <div className="conversation" ref={scroller} aria-label="Conversation" aria-busy={running} tabIndex={-1}>
      <div className="conversation-inner">
        {items.map((item, i) => (
          <ConversationItem key={item.key} item={item} streaming={item.key === streamingKey} first={item.key === firstTurn} settled={i < items.length - 40} sessionId={sessionId} />
        ))}
        {outbox.map((p) => (
          <QueuedPrompt key={p.localId} prompt={p} />
        ))}
        {running && !streamingKey && <WorkingIndicator waiting={view.status === "awaiting_input"} />}
        {!visible && outbox.length === 0 && caughtUp && view.status !== "provisioning" && view.status !== null && <EmptyConversation agent={agent} status={view.status} onSuggest={onSuggest} />}
      </div>
      {away && (
        <button
          type="button"
          className="jump-latest"
          onClick={() => {
            const el = scroller.current!;
            el.scrollTo({ top: el.scrollHeight, behavior: "smooth" });
          }}
        >
          <ArrowDownIcon size={14} /> Latest
        </button>
      )}
    </div>
  );
}
