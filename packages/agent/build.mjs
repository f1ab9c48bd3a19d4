// Bundles the agent into dist/ with everything it uses (the ACP and Anthropic SDKs, zod, jsdiff): the sandbox
// it runs in needs only Node and that folder. The entry is dist/airlock-agent.mjs; what a prompt needs is a
// chunk of its own that the agent loads after `initialize` (start-up time is parse time). Each file is
// written to a temporary name and renamed, chunks first, so an agent starting meanwhile never reads half.
// `node build.mjs [--outdir DIR]`.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf("--outdir");
const outdir = at > 0 ? process.argv[at + 1] : join(here, "dist");

const result = await build({
  entryPoints: [join(here, "src/main.ts")],
  outdir,
  entryNames: "airlock-agent",
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Start-up time is parse time: a minified bundle is read faster by every new agent process.
  minify: true,
  write: false,
  logLevel: "warning",
  legalComments: "none",
  // Some CommonJS dependencies (the MCP SDK's cross-spawn) require Node's built-ins: give ESM a `require`.
  banner: { js: 'import { createRequire as __airlockRequire } from "node:module"; const require = __airlockRequire(import.meta.url);' },
});
const entry = join(outdir, "airlock-agent.mjs");
const files = [...result.outputFiles].sort((a, b) => (a.path === entry) - (b.path === entry));
for (const file of files) {
  mkdirSync(dirname(file.path), { recursive: true });
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}
// Chunks of earlier builds.
const chunks = join(outdir, "chunks");
const current = new Set(files.map((f) => basename(f.path)));
for (const name of readdirSync(chunks)) if (!current.has(name)) rmSync(join(chunks, name), { force: true });
