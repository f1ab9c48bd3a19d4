import { createTwoFilesPatch } from "diff";
import { memo, useMemo } from "react";

/** A unified diff with added and removed lines coloured. */
export const DiffView = memo(function DiffView({ diff, path }: { diff: string; path?: string }) {
  // jsdiff's "Index:" and "====" header lines say nothing the file name does not.
  const lines = useMemo(() => diff.split("\n").filter((l, i, all) => !(i === all.length - 1 && l === "") && !l.startsWith("====") && !l.startsWith("Index: ")), [diff]);
  return (
    <div className="diff" role="region" aria-label={path ? `Changes to ${path}` : "Changes"}>
      {path && <div className="diff-path">{path}</div>}
      <pre>
        {lines.map((line, i) => {
          const cls = line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ") || line.startsWith("index ") || line.startsWith("====") ? "meta" : line.startsWith("@@") ? "hunk" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "ctx";
          return (
            <span key={i} className={`line ${cls}`}>
              {line || " "}
              {"\n"}
            </span>
          );
        })}
      </pre>
    </div>
  );
});

/** The ACP `diff` content of a tool call (old and new text) as a unified diff. */
export function ContentDiff({ path, oldText, newText }: { path: string; oldText: string | null; newText: string }) {
  const diff = useMemo(() => {
    const patch = createTwoFilesPatch(oldText == null ? "/dev/null" : path, path, oldText ?? "", newText, undefined, undefined, { context: 3 });
    return patch.split("\n").slice(2).join("\n");
  }, [path, oldText, newText]);
  return <DiffView diff={diff} path={path} />;
}
