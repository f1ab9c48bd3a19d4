/**
 * @module e2b — sandboxes in E2B's cloud VMs, through the official `e2b` SDK.
 *
 * A session's sandbox is made from the Airlock template (or, when that is missing, from `base`, prepared at
 * start) with Airlock's labels in its metadata, a timeout that the driver keeps pushing forward while work goes
 * on (`setTimeout`), `lifecycle.onTimeout: 'pause'` (an idle or orphaned sandbox pauses rather than dies, and
 * `Sandbox.connect` resumes it), private ingress (its ports answer only with the traffic access token) and
 * egress closed except to this control plane unless the session asked for network. sandboxd is uploaded with
 * `files.write` and started as root with `commands.run(..., {background: true, timeoutMs: 0})`; the agent runs
 * under it as the unprivileged `agent` user. The control plane reaches sandboxd through E2B's proxy
 * (`getHost(port)`, HTTPS) with the session's token.
 */
import { ALL_TRAFFIC, Sandbox, Template } from "e2b";
import type { PreflightProblem, SandboxProviderV1, SandboxRef, SandboxSpec } from "@airlock/protocol";
import { badRequest } from "@airlock/protocol";
import { e2bError, isGone, isTemplateMissing } from "./errors.ts";
import { type Connection, E2bHandle } from "./handle.ts";
import { defaultTemplate, prepareScript } from "./layout.ts";
import { pinnedVersions } from "./template.ts";
import { cloneInto, makeBaseline, seedFiles } from "./workspace.ts";

export interface E2bProviderOptions {
  connection: Connection;
  /** Template name or id (default `airlock`). */
  template?: string;
  installationId: string;
  /** The bundled relay, `packages/sandboxd/dist/sandboxd.js`. */
  sandboxdPath: string;
  /** This installation's node_modules: agent paths under it map to the template's copy. */
  hostNodeModules: string;
  /** Public URL of this control plane: sandboxes without network may still reach it (the LLM gateway). */
  publicUrl: string | null;
  /** Sandbox timeout, pushed forward by keepAlive (default 15 min). */
  timeoutMs?: number;
  /** Pause instead of kill when the timeout runs out (default true). */
  pauseOnTimeout?: boolean;
}

export function createE2bProvider(options: E2bProviderOptions): SandboxProviderV1 {
  const conn = options.connection;
  const template = options.template ?? defaultTemplate;
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  const pins = pinnedVersions();
  const ctx = { connection: conn, sandboxdPath: options.sandboxdPath, hostNodeModules: options.hostNodeModules, pins, timeoutMs };

  const network = (wanted: boolean) => {
    const gateway = options.publicUrl ? new URL(options.publicUrl).hostname : null;
    return wanted
      ? { allowPublicTraffic: false }
      : { allowPublicTraffic: false, denyOut: [ALL_TRAFFIC], ...(gateway ? { allowOut: [gateway] } : {}) };
  };

  const createFrom = (name: string, spec: SandboxSpec, signal?: AbortSignal) =>
    Sandbox.create(name, {
      ...conn,
      metadata: spec.labels,
      timeoutMs: spec.timeoutMs ?? timeoutMs,
      lifecycle: { onTimeout: options.pauseOnTimeout === false ? "kill" : "pause" },
      network: network(spec.network),
      ...(signal ? { signal } : {}),
    });

  return {
    specificationVersion: "v1",
    name: "e2b",
    capabilities: { pause: true, network: true, keepAlive: true },

    async preflight() {
      const problems: PreflightProblem[] = [];
      if (!conn.apiKey) {
        problems.push({ code: "e2b_api_key_missing", message: "E2B_API_KEY is not set", fix: "set E2B_API_KEY (https://e2b.dev/dashboard?tab=keys) and restart Airlock" });
        return { ok: false, problems };
      }
      try {
        if (!(await Template.exists(template, conn))) {
          problems.push({
            code: "e2b_template_missing",
            message: `the E2B template "${template}" does not exist: sessions start from "base" and install what they need at start (slower)`,
            fix: "run `airlock e2b template build`",
          });
        }
      } catch (err) {
        const e = e2bError(err, "checking the template");
        const auth = (e.details as { e2b?: string } | undefined)?.e2b === "auth";
        problems.push(
          auth
            ? { code: "e2b_auth", message: e.message, fix: "set a valid E2B_API_KEY and restart Airlock" }
            : { code: "e2b_unreachable", message: e.message, fix: "check the network and E2B_API_URL / E2B_DOMAIN" },
        );
      }
      if (!options.publicUrl) {
        problems.push({
          code: "e2b_public_url_missing",
          message: "AIRLOCK_PUBLIC_URL is not set: agents in E2B sandboxes cannot reach the LLM gateway",
          fix: "set AIRLOCK_PUBLIC_URL to an address of this server that E2B sandboxes can reach",
        });
      }
      const fatal = new Set(["e2b_api_key_missing", "e2b_auth", "e2b_unreachable"]);
      return { ok: !problems.some((p) => fatal.has(p.code)), problems };
    },

    async create(spec, onProgress, signal) {
      if (spec.seed?.git && !spec.network) throw badRequest("workspace.git needs a sandbox with network access; create the session with `network: true` or upload the files with workspace.files");
      if (!conn.apiKey) throw e2bError({ name: "AuthenticationError", message: "E2B_API_KEY is not set" }, "creating the sandbox");
      onProgress?.(`creating an E2B sandbox from template "${template}"`);
      let sbx: Sandbox;
      let prepared = true;
      try {
        sbx = await createFrom(template, spec, signal);
      } catch (err) {
        if (!isTemplateMissing(err)) throw e2bError(err, "creating the sandbox", { template });
        onProgress?.(`the E2B template "${template}" does not exist: starting from "base" and installing at start (run \`airlock e2b template build\` to make sessions start faster)`);
        try {
          sbx = await createFrom("base", spec, signal);
        } catch (again) {
          throw e2bError(again, "creating the sandbox", { template: "base" });
        }
        prepared = false;
      }
      const handle = new E2bHandle(ctx, sbx.sandboxId, sbx, spec.resources, onProgress);
      try {
        if (!prepared) {
          onProgress?.("preparing the sandbox: the agent user and folders");
          await sbx.commands.run(prepareScript, { user: "root", timeoutMs: 5 * 60_000 });
        }
        if (spec.seed?.files) {
          onProgress?.("writing workspace files");
          await seedFiles(sbx, spec.seed.files);
        } else if (spec.seed?.git) {
          onProgress?.("cloning the repository");
          await cloneInto(sbx, spec.seed.git);
        }
        onProgress?.("recording the workspace baseline");
        await makeBaseline(sbx);
      } catch (err) {
        await handle.destroy().catch(() => {});
        throw e2bError(err, "preparing the sandbox", { sandboxId: sbx.sandboxId });
      }
      return handle;
    },

    async connect(ref: SandboxRef) {
      // Only look: a paused sandbox stays paused until the handle is used (then connect resumes it).
      try {
        await Sandbox.getInfo(ref.id, conn);
      } catch (err) {
        if (isGone(err)) return null;
        throw e2bError(err, "looking up the sandbox", { sandboxId: ref.id });
      }
      const resources = (ref.data as { resources?: SandboxSpec["resources"] }).resources;
      return new E2bHandle(ctx, ref.id, null, resources);
    },

    async list(labels) {
      const refs: SandboxRef[] = [];
      try {
        const pages = Sandbox.list({ ...conn, query: { metadata: labels, state: ["running", "paused"] }, limit: 100 });
        while (pages.hasNext) {
          for (const s of await pages.nextItems()) refs.push({ provider: "e2b", id: s.sandboxId, data: {}, labels: s.metadata });
        }
      } catch (err) {
        throw e2bError(err, "listing sandboxes");
      }
      return refs;
    },
  };
}
