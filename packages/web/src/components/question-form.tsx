/**
 * An answer to the agent's question: one field per property of its JSON schema (text, number, yes/no, a
 * choice), or free text when it gave no schema.
 */
import { useState } from "react";

interface Property {
  type?: string;
  title?: string;
  description?: string;
  enum?: unknown[];
  default?: unknown;
}

export function QuestionForm({ schema, busy, onAnswer }: { schema: unknown; busy: boolean; onAnswer(answer: unknown): void }) {
  const props = (schema as { properties?: Record<string, Property> } | undefined)?.properties;
  const required = new Set((schema as { required?: string[] } | undefined)?.required ?? []);
  const [text, setText] = useState("");
  const [values, setValues] = useState<Record<string, unknown>>(() =>
    Object.fromEntries(Object.entries(props ?? {}).map(([k, p]) => [k, p.default ?? (p.type === "boolean" ? false : "")])),
  );

  if (!props || Object.keys(props).length === 0) {
    return (
      <form
        className="question-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim()) onAnswer(text.trim());
        }}
      >
        <label className="sr-only" htmlFor="answer-text">
          Your answer
        </label>
        <textarea id="answer-text" value={text} rows={2} placeholder="Type your answer…" onChange={(e) => setText(e.target.value)} />
        <button className="btn primary" disabled={busy || !text.trim()}>
          Answer
        </button>
      </form>
    );
  }

  const ready = [...required].every((k) => values[k] !== "" && values[k] !== undefined);
  return (
    <form
      className="question-form fields"
      onSubmit={(e) => {
        e.preventDefault();
        const out: Record<string, unknown> = {};
        for (const [k, p] of Object.entries(props)) {
          const v = values[k];
          if (v === "" && !required.has(k)) continue;
          out[k] = p.type === "number" || p.type === "integer" ? Number(v) : v;
        }
        onAnswer(out);
      }}
    >
      {Object.entries(props).map(([k, p]) => {
        const label = `${p.title ?? k}${required.has(k) ? "" : " (optional)"}`;
        const set = (v: unknown) => setValues((all) => ({ ...all, [k]: v }));
        if (p.type === "boolean") {
          return (
            <label key={k} className="check-field">
              <input type="checkbox" checked={Boolean(values[k])} onChange={(e) => set(e.target.checked)} /> {label}
            </label>
          );
        }
        return (
          <label key={k} className="field">
            <span className="field-label">{label}</span>
            {p.enum ? (
              <select value={String(values[k] ?? "")} onChange={(e) => set(e.target.value)}>
                <option value="">Choose…</option>
                {p.enum.map((o) => (
                  <option key={String(o)} value={String(o)}>
                    {String(o)}
                  </option>
                ))}
              </select>
            ) : (
              <input type={p.type === "number" || p.type === "integer" ? "number" : "text"} value={String(values[k] ?? "")} onChange={(e) => set(e.target.value)} />
            )}
            {p.description && <span className="field-hint">{p.description}</span>}
          </label>
        );
      })}
      <button className="btn primary" disabled={busy || !ready}>
        Answer
      </button>
    </form>
  );
}
