/** Tokens and cost so far, and the budget when there is one. */
import type { Usage } from "@airlock/client";
import { tokens, usd } from "../state/format.ts";

export function UsageMeter({ usage, budgetUsd }: { usage: Usage; budgetUsd: number | null }) {
  const used = usage.inputTokens + usage.outputTokens;
  if (used === 0 && usage.costUsd === 0 && !budgetUsd) return null;
  const share = budgetUsd ? Math.min(1, usage.costUsd / budgetUsd) : 0;
  return (
    <span className="usage-meter" title={`${usage.inputTokens.toLocaleString()} tokens in, ${usage.outputTokens.toLocaleString()} out`}>
      <span>{tokens(used)} tok</span>
      <span className="usage-cost">
        {usd(usage.costUsd)}
        {budgetUsd ? ` / ${usd(budgetUsd)}` : ""}
      </span>
      {budgetUsd ? (
        <span className={`budget-bar${share > 0.8 ? " high" : ""}`} aria-hidden>
          <span style={{ width: `${share * 100}%` }} />
        </span>
      ) : null}
    </span>
  );
}
