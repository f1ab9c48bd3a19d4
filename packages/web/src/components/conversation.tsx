/** The conversation: every item in order, each memoised so a streamed token re-renders only its own item. */
import { memo, useEffect, useLayoutEffect, useRef } from "react";
import type { Item, View } from "../state/view.ts";
import { ErrorBlock, FileBlock, MessageBlock, NoticeBlock, PlanBlock, ThoughtBlock, UserBlock } from "./blocks.tsx";
import { InteractionCard } from "./interaction-card.tsx";
import { Terminal } from "./terminal.tsx";
import { ToolCard } from "./tool-card.tsx";

export function Conversation({ view, sessionId }: { view: View; sessionId: string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const el = scroller.current!;
    const onScroll = () => (pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80);
    el.addEventListener("scroll", onScroll, { passive: true });
    return () => el.removeEventListener("scroll", onScroll);
  }, []);
  useLayoutEffect(() => {
    if (pinned.current) scroller.current!.scrollTop = scroller.current!.scrollHeight;
  }, [view]);

  const last = view.items[view.items.length - 1];
  return (
    <div className="conversation" ref={scroller} aria-live="polite" aria-busy={Boolean(view.runningTurnId)}>
      <div className="conversation-inner">
        {view.items.length === 0 && <div className="empty">{view.status === "provisioning" || !view.status ? "Preparing the sandbox…" : "Send a prompt to start."}</div>}
        {view.items.map((item) => (
          <ItemView key={item.key} item={item} view={view} sessionId={sessionId} streaming={item === last && Boolean(view.runningTurnId)} />
        ))}
        {view.runningTurnId && last?.kind !== "message" && last?.kind !== "thought" && (
          <div className="working" aria-label="The agent is working">
            <span className="dot" />
            <span className="dot" />
            <span className="dot" />
          </div>
        )}
      </div>
    </div>
  );
}

const ItemView = memo(
  function ItemView({ item, view, sessionId, streaming }: { item: Item; view: View; sessionId: string; streaming: boolean }) {
    switch (item.kind) {
      case "user":
        return <UserBlock item={item} />;
      case "message":
        return <MessageBlock item={item} streaming={streaming} />;
      case "thought":
        return <ThoughtBlock item={item} streaming={streaming} />;
      case "tool": {
        const terminals = item.content.filter((c) => c?.type === "terminal").map((c) => view.items[view.index[`x${c.terminalId}`]]).filter((t): t is Extract<Item, { kind: "terminal" }> => t?.kind === "terminal");
        return <ToolCard item={item} terminals={terminals} />;
      }
      case "terminal":
        // shown inside the tool card that created it, when there is one
        if (view.terminalOwner[item.terminalId]) return null;
        return (
          <div className="block">
            <Terminal output={item.output} exitCode={item.exitCode} done={item.done} />
          </div>
        );
      case "plan":
        return <PlanBlock item={item} />;
      case "interaction":
        return <InteractionCard item={item} sessionId={sessionId} />;
      case "file":
        return <FileBlock item={item} />;
      case "error":
        return <ErrorBlock item={item} />;
      case "notice":
        return <NoticeBlock item={item} />;
    }
  },
  // A tool card also depends on its terminals' items; everything else only on itself.
  (a, b) => a.item === b.item && a.streaming === b.streaming && (a.item.kind !== "tool" && a.item.kind !== "terminal" ? true : a.view === b.view),
);
