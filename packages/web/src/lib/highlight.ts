/**
 * @module highlight — highlight.js with the languages agents mostly write, registered by hand: the "common"
 * bundle would add ~100 KB that a coding UI rarely needs.
 */
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import dockerfile from "highlight.js/lib/languages/dockerfile";
import go from "highlight.js/lib/languages/go";
import ini from "highlight.js/lib/languages/ini";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import kotlin from "highlight.js/lib/languages/kotlin";
import makefile from "highlight.js/lib/languages/makefile";
import markdown from "highlight.js/lib/languages/markdown";
import php from "highlight.js/lib/languages/php";
import plaintext from "highlight.js/lib/languages/plaintext";
import python from "highlight.js/lib/languages/python";
import ruby from "highlight.js/lib/languages/ruby";
import rust from "highlight.js/lib/languages/rust";
import scss from "highlight.js/lib/languages/scss";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import swift from "highlight.js/lib/languages/swift";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";

const languages = { bash, c, cpp, csharp, css, diff, dockerfile, go, ini, java, javascript, json, kotlin, makefile, markdown, php, plaintext, python, ruby, rust, scss, shell, sql, swift, typescript, xml, yaml };
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang);
hljs.registerAliases(["sh", "zsh", "console"], { languageName: "bash" });
hljs.registerAliases(["toml"], { languageName: "ini" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });
hljs.registerAliases(["tsx", "mts", "cts"], { languageName: "typescript" });
hljs.registerAliases(["jsx", "mjs", "cjs"], { languageName: "javascript" });
hljs.registerAliases(["text", "txt", "log"], { languageName: "plaintext" });

const byExtension: Record<string, string> = {
  ts: "typescript", tsx: "typescript", mts: "typescript", cts: "typescript", js: "javascript", jsx: "javascript", mjs: "javascript", cjs: "javascript",
  json: "json", jsonc: "json", py: "python", go: "go", rs: "rust", java: "java", kt: "kotlin", swift: "swift", c: "c", h: "c", cc: "cpp", cpp: "cpp",
  hpp: "cpp", cs: "csharp", rb: "ruby", php: "php", css: "css", scss: "scss", html: "xml", xml: "xml", svg: "xml", md: "markdown", markdown: "markdown",
  yml: "yaml", yaml: "yaml", toml: "ini", ini: "ini", sql: "sql", sh: "bash", bash: "bash", zsh: "bash", diff: "diff", patch: "diff", txt: "plaintext",
};

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The language of a file, from its name. */
export function languageOf(path: string): string | undefined {
  const name = path.split("/").at(-1)!.toLowerCase();
  if (name === "dockerfile") return "dockerfile";
  if (name === "makefile") return "makefile";
  return byExtension[name.split(".").at(-1) ?? ""];
}

/**
 * Highlighted HTML for code in a language that was named (a fence's tag, a file's extension); anything else is
 * shown plain. Never guessed: highlight.js's guesser calls `ls -la` output SQL, `git status` YAML and Rust C#, and
 * a wrong label misleads more than none.
 */
export function highlight(code: string, language?: string): { html: string; language?: string } {
  // Very large inputs are shown plain: highlighting them would freeze the page for little benefit.
  if (code.length > 200_000 || !language || !hljs.getLanguage(language)) return { html: escape(code) };
  return { html: hljs.highlight(code, { language, ignoreIllegals: true }).value, language };
}
