/**
 * @module app — the HTTP API: `/healthz`, `/v1/*` behind auth, the web UI at `/`.
 */
import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Logger } from "../log.ts";
import type { EventBus } from "../sessions/bus.ts";
import type { SessionManager } from "../sessions/manager.ts";
import type { ProviderRegistry } from "../sessions/providers.ts";
import type { HealthView, StoreV1 } from "@airlock/protocol";
import type { EnvApiKey } from "../store/api-key.ts";
import { type AuthVars, auth } from "./auth.ts";
import { errorResponse, onError } from "./errors.ts";
import type { Secrets } from "../secrets/index.ts";
import { secretRoutes } from "./secrets.ts";
import { sessionRoutes } from "./sessions.ts";
import { webhookRoutes } from "./webhooks.ts";
import type { LoopDelay } from "./loop-delay.ts";
import { serveWeb } from "./static.ts";

export interface HttpDeps {
  store: StoreV1;
  bus: EventBus;
  manager: SessionManager;
  agents: AgentRegistry;
  providers: ProviderRegistry;
  secrets: Secrets;
  apiKeys: EnvApiKey[];
  log: Logger;
  version: string;
  /** Sub-apps with their own auth (the LLM gateway), mounted before the web UI's catch-all. */
  mounts?: Array<[path: string, app: Hono<any>]>;
  /** The delivery worker, woken when a webhook is resumed. */
  webhooks?: { wake(): void };
  /** This process's event-loop delay, shown in /healthz. */
  loopDelay?: LoopDelay;
}

export function createHttpApp(deps: HttpDeps): Hono<{ Variables: AuthVars; Bindings: HttpBindings }> {
  const app = new Hono<{ Variables: AuthVars; Bindings: HttpBindings }>();
  app.onError(onError(deps.log));
  app.notFound((c) => errorResponse(c, 404, "not_found", `no route for ${c.req.method} ${c.req.path}`));

  app.get("/healthz", async (c) =>
    c.json<HealthView>({
      ok: true,
      version: deps.version,
      store: deps.store.kind,
      providers: deps.providers.names(),
      defaultProvider: deps.providers.defaultName,
      // Known but off: the reason and the fix, for whoever reads about a provider and wants it.
      unconfiguredProviders: deps.providers.list().filter((p) => !p.configured),
      agents: deps.agents.list().map((a) => ({ name: a.name, available: a.available })),
      liveSessions: deps.manager.liveCount(),
      eventLoopDelayMs: deps.loopDelay?.view() ?? { p99: 0, max: 0 },
      ...(await deps.manager.nodes()),
      ...(deps.store.stats ? { storeStats: deps.store.stats() } : {}),
    }),
  );

  app.use("/v1/*", auth(deps.store, deps.apiKeys));
  // As this tenant sees them: an agent may be available thanks to the tenant's own LLM key.
  app.get("/v1/agents", async (c) => c.json({ agents: deps.agents.list(await deps.secrets.upstreams(c.get("tenant"))) }));
  app.get("/v1/providers", (c) => c.json({ providers: deps.providers.list() }));
  app.route("/v1/sessions", sessionRoutes(deps.manager, deps.bus));
  app.route("/v1/secrets", secretRoutes(deps.secrets));
  app.route("/v1/webhooks", webhookRoutes({ store: deps.store, secrets: deps.secrets, wake: () => deps.webhooks?.wake() }));
  for (const [path, sub] of deps.mounts ?? []) app.route(path, sub);
  serveWeb(app);
  return app;
}
