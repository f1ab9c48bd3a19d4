/**
 * The prompt box, usable whenever the session is alive: Enter sends, Shift+Enter adds a line, Esc cancels the
 * running turn. A prompt sent during a turn is queued by the server and starts after it.
 */
import { forwardRef, useImperativeHandle, useLayoutEffect, useRef, useState } from "react";
import { ArrowUpIcon, StopIcon } from "./icons.tsx";

interface Props {
  value: string;
  onChange(value: string): void;
  disabled: boolean;
  disabledReason?: string;
  running: boolean;
  queued: number;
  onSend(text: string): Promise<void>;
  onCancel(): Promise<void>;
}

export interface ComposerHandle {
  focus(): void;
}

export const Composer = forwardRef<ComposerHandle, Props>(function Composer({ value, onChange, disabled, disabledReason, running, queued, onSend, onCancel }, ref) {
  const box = useRef<HTMLTextAreaElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  useImperativeHandle(ref, () => ({ focus: () => box.current?.focus() }), []);

  // Grow with the text, up to a limit, then scroll.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
  }, [value]);

  const send = async () => {
    const text = value.trim();
    if (!text || disabled) return;
    onChange("");
    setError(null);
    try {
      await onSend(text);
    } catch (err) {
      onChange(text); // give the text back rather than lose it
      setError((err as Error).message);
    }
  };
  const cancel = async () => {
    if (cancelling) return;
    setCancelling(true);
    try {
      await onCancel();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setCancelling(false);
    }
  };

  return (
    <form
      className={`composer${disabled ? " disabled" : ""}`}
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {error && (
        <div className="inline-error composer-error" role="alert">
          {error}
        </div>
      )}
      <div className="composer-box">
        <label htmlFor="prompt" className="sr-only">
          Prompt
        </label>
        <textarea
          id="prompt"
          ref={box}
          rows={1}
          value={value}
          disabled={disabled}
          placeholder={disabled ? (disabledReason ?? "This session has ended.") : running ? "Queue a follow-up…" : "Ask the agent to do something…"}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void send();
            } else if (e.key === "Escape" && running) {
              e.preventDefault();
              void cancel();
            }
          }}
        />
        <div className="composer-actions">
          {running && (
            <button type="button" className="btn icon-only cancel" onClick={() => void cancel()} disabled={cancelling} aria-label="Cancel the running turn (Esc)" title="Cancel the running turn (Esc)">
              <StopIcon size={14} />
            </button>
          )}
          <button type="submit" className="btn primary icon-only send" disabled={disabled || !value.trim()} aria-label={running ? "Queue prompt" : "Send prompt"} title={running ? "Queue (Enter)" : "Send (Enter)"}>
            <ArrowUpIcon size={16} strokeWidth={2.2} />
          </button>
        </div>
      </div>
      <div className="composer-foot">
        <span hidden={disabled}>
          <kbd>Enter</kbd> send · <kbd>Shift</kbd>+<kbd>Enter</kbd> new line{running ? <> · <kbd>Esc</kbd> cancel</> : null}
        </span>
        {queued > 0 && (
          <span className="queued-count" role="status">
            {queued} prompt{queued > 1 ? "s" : ""} queued
          </span>
        )}
      </div>
    </form>
  );
});
