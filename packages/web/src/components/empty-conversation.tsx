/** A session with no turns yet: what to do next, with examples for the scripted demo agent. */
import type { SessionStatus } from "@airlock/client";
import { SparkIcon } from "./icons.tsx";

const demo = [
  { text: "tool", label: "Edit a file (tool call with a diff)" },
  { text: "permission", label: "Ask before writing" },
  { text: "plan", label: "Work through a plan" },
  { text: "think", label: "Think, then answer" },
  { text: "run ls -la", label: "Run a command" },
  { text: "slow 5", label: "Stream for 5 seconds" },
];

export function EmptyConversation({ agent, status, onSuggest }: { agent?: string; status: SessionStatus; onSuggest(text: string): void }) {
  const ended = status === "stopped" || status === "failed";
  return (
    <div className="empty-conversation">
      <span className="empty-icon" aria-hidden>
        <SparkIcon size={22} />
      </span>
      <h2>{ended ? "This session has no conversation" : "The agent is ready"}</h2>
      <p>{ended ? "It ended before any prompt was sent." : "Describe a task below. You can watch each step, answer questions, and stop it at any time."}</p>
      {!ended && agent === "scripted" && (
        <div className="suggestions" role="group" aria-label="Try the demo agent">
          {demo.map((d) => (
            <button key={d.text} type="button" className="suggestion" onClick={() => onSuggest(d.text)}>
              <code>{d.text}</code>
              <span>{d.label}</span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
