/** A tool's raw input or output, folded: JSON pretty-printed, text as is. */
export function RawData({ label, value }: { label: string; value: unknown }) {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return (
    <details className="raw">
      <summary>{label}</summary>
      <pre className="json-block">{text}</pre>
    </details>
  );
}
