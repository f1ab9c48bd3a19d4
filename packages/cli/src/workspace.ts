/**
 * @module workspace — a local folder as a session's seed (`workspace.files`): its text files, skipping what
 * `.gitignore` files (at any depth) and an `.airlockignore` at the top exclude, and `.git` itself; bounded by the
 * server's limits, with an error that says how to get under them.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { limits } from "@airlock/protocol";

export interface Seed {
  files: Record<string, string>;
  bytes: number;
  /** Files left out because they are not UTF-8 text (images, binaries). */
  skippedBinary: string[];
}

/** The JSON body must also fit the server's request limit, with room for the rest of it. */
const maxBytes = Math.min(limits.maxSeedBytes, limits.maxBodyBytes - 64 * 1024);
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads `dir` into a seed; throws an `Error` naming the limit and the fix when it is too big. */
export function readSeed(dir: string): Seed {
  const root = resolve(dir);
  let rootStat;
  try {
    rootStat = statSync(root);
  } catch {
    throw new Error(`--workspace ${dir}: no such folder`);
  }
  if (!rootStat.isDirectory()) throw new Error(`--workspace ${dir} is not a folder`);
  const seed: Seed = { files: {}, bytes: 0, skippedBinary: [] };
  let count = 0;
  const rules: Array<{ base: string; ig: Ignore }> = [];
  const top = readIgnore(join(root, ".airlockignore"));
  if (top) rules.push({ base: root, ig: top });

  const ignored = (abs: string, isDir: boolean) =>
    rules.some(({ base, ig }) => {
      const rel = relative(base, abs).split(sep).join("/");
      return rel !== "" && !rel.startsWith("..") && ig.ignores(isDir ? `${rel}/` : rel);
    });

  const tooBig = (what: string) =>
    new Error(
      `${dir} is too big to upload: ${what} (after .gitignore). The server takes at most ${limits.maxSeedFiles} files and ${(maxBytes / 1024 / 1024).toFixed(1)} MiB of text.\n` +
        "Exclude more with .gitignore or an .airlockignore in that folder, point --workspace at a smaller folder, or use --git URL.",
    );

  const walk = (folder: string) => {
    const own = readIgnore(join(folder, ".gitignore"));
    if (own) rules.push({ base: folder, ig: own });
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = join(folder, entry.name);
      if (entry.name === ".git" || entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) {
        if (!ignored(abs, true)) walk(abs);
        continue;
      }
      if (!entry.isFile() || ignored(abs, false)) continue;
      const rel = relative(root, abs).split(sep).join("/");
      const bytes = readFileSync(abs);
      let text: string;
      try {
        text = utf8.decode(bytes);
      } catch {
        seed.skippedBinary.push(rel);
        continue;
      }
      if (text.includes("\0")) {
        seed.skippedBinary.push(rel);
        continue;
      }
      count++;
      seed.bytes += bytes.length;
      if (count > limits.maxSeedFiles) throw tooBig(`more than ${limits.maxSeedFiles} files`);
      if (seed.bytes > maxBytes) throw tooBig(`more than ${(maxBytes / 1024 / 1024).toFixed(1)} MiB`);
      seed.files[rel] = text;
    }
    if (own) rules.pop();
  };
  walk(root);
  return seed;
}

function readIgnore(path: string): Ignore | null {
  try {
    return ignore().add(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
}
