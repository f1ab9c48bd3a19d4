// Bundles the relay into one file with no runtime dependencies (jsdiff is bundled in): it is copied into
// sandboxes as is. Written to a temporary file and renamed, so a sandboxd starting meanwhile never reads half.
// `--outfile PATH` builds elsewhere (tests build a private copy while other suites run the shared one).
import { renameSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--outfile");
const outfile = flag > 0 ? process.argv[flag + 1] : join(root, "dist/sandboxd.js");
const result = await build({
  entryPoints: [join(root, "src/main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: false,
  sourcemap: false,
  write: false,
  logLevel: "warning",
});
mkdirSync(dirname(outfile), { recursive: true });
const tmp = `${outfile}.${process.pid}.tmp`;
writeFileSync(tmp, result.outputFiles[0].contents);
renameSync(tmp, outfile);
