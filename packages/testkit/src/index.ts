/**
 * @module testkit — the scripted ACP agent, and conformance suites every store and provider must pass.
 */
import { fileURLToPath } from "node:url";

export { type StoreConformanceOptions, describeStoreConformance, sessionRecord } from "./store-conformance.ts";
export { type TestDatabase, createTestDatabase, testDatabaseAdminUrl } from "./postgres.ts";
export { describeIdempotencyConformance } from "./store-idempotency-conformance.ts";
export { describeWebhookConformance, webhookRecord } from "./store-webhook-conformance.ts";
export { type FakeAnthropic, type RecordedRequest, type Reply, startFakeAnthropic } from "./fake-anthropic/index.ts";
export { type FakeOpenAI, type OpenAIReply, startFakeOpenAI } from "./fake-openai/index.ts";
export { type FakeGemini, type GeminiReply, startFakeGemini } from "./fake-gemini/index.ts";
export { type FakeE2B, type FakeE2BOptions, type FakeTemplate, startFakeE2B } from "./fake-e2b/index.ts";
export { type TestMcpHttpServer, startTestMcpHttpServer } from "./mcp-server/http.ts";
export { type TestMcpCall, createTestMcpServer } from "./mcp-server/tools.ts";
export { seededRandom } from "./seeded-random.ts";
export { describeProviderConformance, type ProviderFixture, scriptedAgentLaunch } from "./provider-conformance.ts";

/** Absolute path of the bundled scripted agent (`node <path>` starts it); built by `npm run build -w @airlock/testkit`. */
export const scriptedAgentPath: string = fileURLToPath(new URL("../dist/scripted-agent.mjs", import.meta.url));

/** Absolute path of the bundled test MCP server over stdio (`node <path> [NAME]`); built with the scripted agent. */
export const mcpServerPath: string = fileURLToPath(new URL("../dist/mcp-server.mjs", import.meta.url));
