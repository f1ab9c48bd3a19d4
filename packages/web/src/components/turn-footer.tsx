/** How a turn ended: how long it took and what it cost, or why it stopped. */
import { memo } from "react";
import { duration, tokens, usd } from "../state/format.ts";
import type { ItemOf } from "../state/view.ts";
import { AlertIcon, CheckIcon, StopIcon } from "./icons.tsx";

const reasons: Record<string, string> = {
  max_tokens: "Stopped: the agent hit its output limit",
  max_turn_requests: "Stopped: the agent hit its request limit",
  refusal: "The agent declined to go on",
};

export const TurnFooter = memo(function TurnFooter({ item }: { item: ItemOf<"turn-end"> }) {
  const took = item.durationMs !== null ? duration(item.durationMs) : null;
  const used = item.usage.inputTokens + item.usage.outputTokens;
  const stats = [took, used > 0 ? `${tokens(used)} tokens` : null, item.usage.costUsd > 0 ? usd(item.usage.costUsd) : null].filter(Boolean).join(" · ");
  if (item.stopReason === "end_turn") {
    return (
      <div className="turn-footer ok">
        <CheckIcon size={13} /> Done{stats ? ` · ${stats}` : ""}
      </div>
    );
  }
  if (item.stopReason === "cancelled") {
    return (
      <div className="turn-footer warn">
        <StopIcon size={11} /> Cancelled{took ? ` after ${took}` : ""}
      </div>
    );
  }
  const text = item.stopReason === "error" ? `The turn failed${item.error ? `: ${item.error}` : ""}` : (reasons[item.stopReason] ?? `Stopped: ${item.stopReason.replace(/_/g, " ")}`);
  return (
    <div className={`turn-footer ${item.stopReason === "error" ? "bad" : "warn"}`} role={item.stopReason === "error" ? "alert" : undefined}>
      <AlertIcon size={13} /> {text}
      {stats ? ` · ${stats}` : ""}
    </div>
  );
});
