/** A prompt sent from this tab whose turn has not started: sending, or queued behind the running turn. */
import type { OutgoingPrompt } from "../api/use-session.ts";

export function QueuedPrompt({ prompt }: { prompt: OutgoingPrompt }) {
  return (
    <div className="turn-header queued" aria-label={prompt.state === "sending" ? "Sending prompt" : "Queued prompt"}>
      <div className="user-bubble">
        <div className="user-text">{prompt.text}</div>
      </div>
      <span className="queued-label">{prompt.state === "sending" ? "Sending…" : "Queued — starts when the current turn ends"}</span>
    </div>
  );
}
