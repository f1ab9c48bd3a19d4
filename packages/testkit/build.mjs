// Bundles the scripted agent into one self-contained file (the SDK and zod included): the sandbox it runs in
// sees only Node and this file. `node build.mjs [--outfile PATH]`; the default is dist/scripted-agent.mjs.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf("--outfile");
const outfile = at > 0 ? process.argv[at + 1] : join(here, "dist/scripted-agent.mjs");

await build({
  entryPoints: [join(here, "src/scripted-agent/main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  legalComments: "none",
});
