// Bundles the scripted agent into one self-contained file (the SDK and zod included): the sandbox it runs in
// sees only Node and this file. `node build.mjs [--outfile PATH]`; the default is dist/scripted-agent.mjs.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf("--outfile");
const outfile = at > 0 ? process.argv[at + 1] : join(here, "dist/scripted-agent.mjs");

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  legalComments: "none",
  // Some CommonJS dependencies (the MCP SDK's cross-spawn) require Node's built-ins: give ESM a `require`.
  banner: { js: 'import { createRequire as __airlockRequire } from "node:module"; const require = __airlockRequire(import.meta.url);' },
};
await build({ ...common, entryPoints: [join(here, "src/scripted-agent/main.ts")], outfile });
// The test MCP server over stdio, next to the agent: tests seed it into a workspace or run it from there.
await build({ ...common, entryPoints: [join(here, "src/mcp-server/stdio.ts")], outfile: join(dirname(outfile), "mcp-server.mjs") });

