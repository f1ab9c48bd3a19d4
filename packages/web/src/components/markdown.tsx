/** Markdown from the agent: parsed with marked, sanitised with DOMPurify, code highlighted, links opened apart. */
import DOMPurify from "dompurify";
import { Marked } from "marked";
import { type MouseEvent, memo, useMemo } from "react";
import { highlight } from "../lib/highlight.ts";

// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;?]*[A-Za-z]/g;
const escapeAttr = (s: string) => s.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    code({ text, lang }) {
      const language = (lang ?? "").trim().split(/\s+/)[0] || undefined;
      // Command output pasted by an agent may carry ANSI colour codes: noise outside a terminal.
      const out = highlight(text.replace(ansi, ""), language);
      // The language as the agent named it, or nothing: untagged blocks are mostly output, and a guess misleads.
      const label = language ? `<span class="code-lang">${escapeAttr(language)}</span>` : "<span></span>";
      return `<div class="code-block"><div class="code-head">${label}<button type="button" class="code-copy" data-copy="1">Copy</button></div><pre><code class="hljs">${out.html}</code></pre></div>`;
    },
  },
});

// Links from an agent open in a new tab, without handing it this page (`noopener`).
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

function onClick(e: MouseEvent<HTMLDivElement>) {
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-copy]");
  if (!button) return;
  const code = button.closest(".code-block")?.querySelector("code")?.textContent ?? "";
  void navigator.clipboard?.writeText(code).then(() => {
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  });
}

/** Re-parsed only when the text changes. */
export const Markdown = memo(function Markdown({ text, className = "" }: { text: string; className?: string }) {
  const html = useMemo(() => DOMPurify.sanitize(marked.parse(text, { async: false }) as string), [text]);
  return <div className={`markdown ${className}`} onClick={onClick} dangerouslySetInnerHTML={{ __html: html }} />;
});
