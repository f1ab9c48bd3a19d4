/**
 * One item of the conversation. Memoised on the item object itself: the reducer replaces only the items an
 * event touched, so a streamed token re-renders only the message it extends.
 */
import { memo } from "react";
import type { Item } from "../state/view.ts";
import { AgentMessage } from "./agent-message.tsx";
import { FileChange } from "./file-change.tsx";
import { InteractionCard } from "./interaction-card.tsx";
import { Notice } from "./notice.tsx";
import { PlanCard } from "./plan-card.tsx";
import { SetupCard } from "./setup-card.tsx";
import { TerminalView } from "./terminal-view.tsx";
import { ThoughtBlock } from "./thought-block.tsx";
import { ToolCard } from "./tool-card.tsx";
import { TurnFooter } from "./turn-footer.tsx";
import { TurnHeader } from "./turn-header.tsx";
import { UserText } from "./user-text.tsx";

interface Props {
  item: Item;
  streaming: boolean;
  first: boolean;
  /** Far from the end: may skip rendering while off-screen. */
  settled: boolean;
  sessionId: string;
}

export const ConversationItem = memo(function ConversationItem({ item, streaming, first, settled, sessionId }: Props) {
  return (
    <div className={`item item-${item.kind}${settled ? " settled" : ""}`} id={`item-${item.key}`} data-key={item.key}>
      {body(item, streaming, first, sessionId)}
    </div>
  );
});

function body(item: Item, streaming: boolean, first: boolean, sessionId: string) {
  switch (item.kind) {
    case "turn":
      return <TurnHeader item={item} first={first} />;
    case "turn-end":
      return <TurnFooter item={item} />;
    case "user":
      return <UserText item={item} />;
    case "message":
      return <AgentMessage item={item} streaming={streaming} />;
    case "thought":
      return <ThoughtBlock item={item} streaming={streaming} />;
    case "tool":
      return <ToolCard item={item} sessionId={sessionId} />;
    case "interaction":
      return <InteractionCard item={item} sessionId={sessionId} />;
    case "plan":
      return <PlanCard item={item} />;
    case "file":
      return <FileChange item={item} />;
    case "terminal":
      return item.owned ? null : <TerminalView terminal={item.terminal} />;
    case "setup":
      return <SetupCard item={item} />;
    case "notice":
      return <Notice item={item} />;
  }
}
