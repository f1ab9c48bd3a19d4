/**
 * @module cli — `airlock e2b template build [--name NAME] [--dry-run]`: builds the Airlock E2B template
 * (see template.ts) with the SDK's `Template.build`, streaming E2B's build log. `--dry-run` prints the
 * template as a Dockerfile and builds nothing. Uses E2B_API_KEY (and E2B_API_URL / E2B_DOMAIN when set);
 * the name defaults to AIRLOCK_E2B_TEMPLATE, else `airlock`.
 */
import { existsSync } from "node:fs";
import { Template } from "e2b";
import { sandboxdPath } from "@airlock/sandboxd";
import { e2bConnectionFromEnv } from "./env.ts";
import { e2bError } from "./errors.ts";
import { defaultTemplate } from "./layout.ts";
import { airlockTemplate, buildTemplate } from "./template.ts";

export const e2bUsage = "  airlock e2b template build [--name NAME] [--dry-run]";

export async function e2bCommand(positionals: string[], values: { name?: string; "dry-run"?: boolean }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [what, action] = positionals;
  if (what !== "template" || action !== "build") {
    console.error(`usage:\n${e2bUsage}`);
    return 2;
  }
  if (!existsSync(sandboxdPath)) {
    console.error(`the sandbox relay is not built (${sandboxdPath}); run \`npm run build -w @airlock/sandboxd\` first`);
    return 1;
  }
  if (values["dry-run"]) {
    console.log(Template.toDockerfile(airlockTemplate({ sandboxdPath })));
    return 0;
  }
  if (!env.E2B_API_KEY) {
    console.error("E2B_API_KEY is not set: get a key at https://e2b.dev/dashboard?tab=keys and run again with it in the environment");
    return 1;
  }
  const name = values.name ?? (env.AIRLOCK_E2B_TEMPLATE || defaultTemplate);
  console.log(`building the E2B template "${name}" (Node 20, git, ripgrep, the agent packages, sandboxd, user "agent")...`);
  try {
    const info = await buildTemplate({ name, sandboxdPath, connection: e2bConnectionFromEnv(env), onLog: (line) => console.log(line) });
    console.log(`built "${info.name}": template ${info.templateId}, build ${info.buildId}. Sessions on the e2b provider now start from it.`);
    return 0;
  } catch (err) {
    console.error(e2bError(err, "building the template").message);
    return 1;
  }
}
