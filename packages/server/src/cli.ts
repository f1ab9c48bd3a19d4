/**
 * @module cli — `airlock` administration commands that work on the data folder directly. The `airlock` CLI
 * (packages/cli) hands `keys`, `serve` and `e2b` to `adminMain`; run alone, this file is the same commands.
 *
 *   airlock keys create [--name NAME] [--tenant TENANT]   prints a new API key once; without --tenant the key
 *                                                           gets a tenant of its own (see store/api-key.ts)
 *   airlock keys list
 *   airlock keys revoke KEY_ID
 *   airlock serve                                           same as `npm start`
 *   airlock e2b template build [--name NAME] [--dry-run]    builds the Airlock E2B template (providers/e2b/cli.ts)
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { readConfig } from "./config.ts";
import { defaultTenant, newTenant, tenantPattern } from "./store/api-key.ts";
import { openStore } from "./store/index.ts";

const usage = `usage:
  airlock keys create [--name NAME] [--tenant TENANT]
  airlock keys list
  airlock keys revoke KEY_ID
  airlock serve
  airlock e2b template build [--name NAME] [--dry-run]`;

/** Runs one admin command; resolves with its exit code, or -1 when it keeps running (`serve`). */
export async function adminMain(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: "string" }, tenant: { type: "string" }, "dry-run": { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  const [group, command, arg] = positionals;
  if (values.help || !group) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  if (group === "serve") {
    await import("./main.ts");
    return -1;
  }
  if (group === "e2b") return (await import("./providers/e2b/cli.ts")).e2bCommand(positionals.slice(1), values);
  if (group !== "keys") {
    console.error(`unknown command "${group}"\n${usage}`);
    return 2;
  }
  const config = readConfig();
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  await store.migrate();
  try {
    if (command === "create") {
      if (values.tenant !== undefined && !tenantPattern.test(values.tenant)) {
        console.error(`--tenant "${values.tenant}" is not a tenant name (letters, digits, '_', '.', '-'; up to 64)`);
        return 2;
      }
      // Loopback clients are let in only while no key exists anywhere: this key may be the one that ends it.
      const first = config.apiKeys.length === 0 && (await store.listApiKeys()).length === 0;
      const { record, key } = await store.createApiKey(values.tenant ?? newTenant(), values.name ?? "cli");
      console.log(`created ${record.id} (tenant ${record.tenant}, name ${record.name})`);
      console.log(`key: ${key}`);
      console.log("Store it now: it is shown only once. Send it as `Authorization: Bearer <key>`.");
      if (values.tenant === undefined) {
        console.log(`Its tenant ${record.tenant} is its own: it sees only sessions made with it. To give another key the same sessions: keys create --tenant ${record.tenant}`);
      } else console.log(`It shares tenant ${record.tenant}: it sees the sessions of every key of that tenant, and they see its.`);
      if (first) {
        console.log(
          "This is the first API key, so loopback access is now off: the server answers only requests that carry a key (a client on this machine without one gets 401)." +
            ` Sessions made before over loopback belong to tenant ${defaultTenant}: a key made with --tenant ${defaultTenant} reaches them.`,
        );
      }
      return 0;
    }
    if (command === "list") {
      for (const k of await store.listApiKeys()) console.log(`${k.id}\t${k.tenant}\t${k.name}\t${new Date(k.createdAt).toISOString()}`);
      return 0;
    }
    if (command === "revoke" && arg) {
      const ok = await store.revokeApiKey(arg);
      console.log(ok ? `revoked ${arg}` : `no active key ${arg}`);
      return ok ? 0 : 1;
    }
    console.error(usage);
    return 2;
  } finally {
    await store.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await adminMain(process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
