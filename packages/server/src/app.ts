/**
 * @module app — wires one Airlock node: store, providers, agents, sessions, HTTP.
 */
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { StoreV1 } from "@airlock/protocol";
import { AgentRegistry } from "./agents/registry.ts";
import type { Config } from "./config.ts";
import { Gateway, GatewayTokens, anthropicGateway, gatewayPath, geminiGateway, geminiGatewayPath, mcpGatewayPath, mcpProxy, openaiGateway, openaiGatewayPath, priceTable } from "./gateway/index.ts";
import { createHttpApp } from "./http/app.ts";
import { LoopDelay } from "./http/loop-delay.ts";
import { type Logger, createLogger } from "./log.ts";
import { e2bNotConfigured, e2bProviderFromEnv } from "./providers/e2b/env.ts";
import { createLocalProvider } from "./providers/local/index.ts";
import { sandboxdPath } from "@airlock/sandboxd";
import { CrossNodeFeed } from "./cluster/feed.ts";
import { ClusterNode } from "./cluster/node.ts";
import { EventBus } from "./sessions/bus.ts";
import { SessionManager } from "./sessions/manager.ts";
import { ProviderRegistry } from "./sessions/providers.ts";
import { SecretBox, Secrets } from "./secrets/index.ts";
import { openStore } from "./store/index.ts";
import { WebhookWorker } from "./webhooks/worker.ts";

export const version = "0.1.0";

export interface Airlock {
  url: string;
  port: number;
  store: StoreV1;
  manager: SessionManager;
  log: Logger;
  /** Stops serving; sandboxes keep running and are re-attached by the next start. */
  close(): Promise<void>;
}

export async function startAirlock(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Airlock> {
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    onError: (err) => log.warn({ err }, "store: a database connection failed (it is replaced on next use)"),
  });
  await store.migrate();
  const secrets = new Secrets(store, SecretBox.fromEnv(config.secretKey ?? undefined, config.dataDir));
  const local = createLocalProvider({
    dataDir: config.dataDir,
    sandboxdPath,
    installationId: config.installationId,
    sharedRelay: config.sharedRelay,
    orphanGraceSec: config.orphanGraceSec,
    resources: { diskMb: config.diskLimitMb },
    diskCheckIntervalMs: config.diskCheckSec * 1000,
  });
  const preflight = await local.preflight();
  for (const p of preflight.problems) log.warn({ code: p.code, fix: p.fix }, `local sandbox: ${p.message}`);
  // E2B cloud sandboxes when E2B_API_KEY is set; its preflight calls E2B, so it is not awaited.
  const e2b = e2bProviderFromEnv(process.env, config, sandboxdPath);
  void e2b?.preflight().then(
    (r) => r.problems.forEach((p) => log.warn({ code: p.code, fix: p.fix }, `e2b sandbox: ${p.message}`)),
    (err) => log.warn({ err }, "e2b preflight failed"),
  );
  const e2bOff = e2bNotConfigured(process.env);
  const providers = new ProviderRegistry(e2b ? [local, e2b] : [local], "local", e2bOff ? [e2bOff] : []);
  const sharing = config.apiKeys.filter((k) => k.plain).length;
  if (sharing > 1) log.warn(`${sharing} keys of AIRLOCK_API_KEYS are plain keys: they share the tenant "default" and so each other's sessions; write "tenant:key" to give each its own`);
  if (config.passRealKey) log.warn("AIRLOCK_PASS_REAL_KEY=1: sandboxes that cannot reach the LLM gateway get the real API keys");
  const agents = new AgentRegistry(config);
  const bus = new EventBus();
  const tokens = GatewayTokens.fromDataDir(config.dataDir);
  const gateway = new Gateway({
    dataDir: config.dataDir,
    publicUrl: config.publicUrl,
    tokens,
    upstream: { baseUrl: config.anthropicBaseUrl, apiKey: config.anthropicApiKey },
    openaiUpstream: { baseUrl: config.openaiBaseUrl, apiKey: config.openaiApiKey },
    geminiUpstream: { baseUrl: config.geminiBaseUrl, apiKey: config.geminiApiKey },
    passRealKey: config.passRealKey,
    log,
  });
  const cluster = new ClusterNode(store, config, new CrossNodeFeed(store, bus, log, config.followPollMs), log);
  const manager = new SessionManager({ store, bus, agents, providers, log, config, gateway, secrets, cluster });
  const prices = priceTable();
  const llm = anthropicGateway({ tokens, sessions: manager, upstreamUrl: config.anthropicBaseUrl, apiKey: config.anthropicApiKey, prices });
  const openai = openaiGateway({ tokens, sessions: manager, upstreamUrl: config.openaiBaseUrl, apiKey: config.openaiApiKey, prices });
  const gemini = geminiGateway({ tokens, sessions: manager, upstreamUrl: config.geminiBaseUrl, apiKey: config.geminiApiKey, prices });
  const webhooks = new WebhookWorker({ store, log, settings: config.webhooks, signingSecret: (w) => secrets.openWebhookSecret(w.id, w.secret) });
  const mcp = mcpProxy({ tokens, sessions: manager, mountPath: mcpGatewayPath });
  const mounts: Array<[string, typeof llm]> = [[gatewayPath, llm], [openaiGatewayPath, openai], [geminiGatewayPath, gemini], [mcpGatewayPath, mcp]];
  const loopDelay = new LoopDelay();
  const app = createHttpApp({ store, bus, manager, agents, providers, secrets, apiKeys: config.apiKeys, log, version, mounts, webhooks, loopDelay });
  gateway.setFetch(app.fetch);
  await manager.start();
  webhooks.start();

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
    s.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  cluster.setUrl(url);
  log.info({ url, dataDir: config.dataDir, store: store.kind, node: config.nodeId }, "Airlock is listening");

  return {
    url,
    port,
    store,
    manager,
    log,
    async close() {
      await webhooks.close();
      await manager.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await store.close();
      loopDelay.close();
    },
  };
}
