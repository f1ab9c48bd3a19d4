/** The prompt box: Enter sends, Shift+Enter adds a line, Esc cancels the running turn. */
import { useRef, useState } from "react";

export function PromptBox({ disabled, running, queued, onSend, onCancel }: { disabled: boolean; running: boolean; queued: number; onSend(text: string): Promise<void>; onCancel(): Promise<void> }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const send = async () => {
    const t = text.trim();
    if (!t || disabled) return;
    setText("");
    setError(null);
    try {
      await onSend(t);
    } catch (err) {
      setText(t);
      setError((err as Error).message);
    }
    ref.current?.focus();
  };
  return (
    <form
      className="prompt-box"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {error && <div className="form-error" role="alert">{error}</div>}
      <div className="prompt-row">
        <textarea
          ref={ref}
          aria-label="Prompt"
          placeholder={disabled ? "This session has ended." : running ? "The agent is working — your prompt will be queued." : "Ask the agent…  (Enter to send, Shift+Enter for a new line)"}
          value={text}
          disabled={disabled}
          rows={Math.min(8, Math.max(1, text.split("\n").length))}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void send();
            } else if (e.key === "Escape" && running) {
              e.preventDefault();
              void onCancel();
            }
          }}
        />
        {running && (
          <button type="button" className="btn danger" onClick={() => void onCancel()} title="Cancel the running turn (Esc)">
            Cancel
          </button>
        )}
        <button type="submit" className="btn primary" disabled={disabled || !text.trim()}>
          {running ? "Queue" : "Send"}
        </button>
      </div>
      {queued > 0 && <div className="muted small">{queued} prompt{queued > 1 ? "s" : ""} queued</div>}
    </form>
  );
}
