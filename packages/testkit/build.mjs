// Bundles the scripted agent into one self-contained file: the sandbox sees only Node and this file.
import { build } from "esbuild";

await build({
  entryPoints: ["src/scripted-agent/main.ts"],
  outfile: "dist/scripted-agent.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
