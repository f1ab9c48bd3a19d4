/**
 * A session whose sandbox was being made when its node went away — SIGKILLed with one node (a restart) or among
 * several (a takeover) — gets its sandbox made again from the stored seed, and what the dead node had made is
 * removed. The fake E2B makes the sandbox but loses create's answer, so the node dies with a sandbox it never
 * stored.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/protocol";
import { type FakeE2B, startFakeE2B } from "@airlock/testkit";
import { nodeModules } from "../../src/agents/packages.ts";
import { nodeModulesDir, prepareScript } from "../../src/providers/e2b/layout.ts";
import { SseReader, type TestServer, hasStatus, removeDir, startServer, textOf, turnEnded } from "../harness.ts";
import { type Cluster, ownerOf, startCluster, waitUntil } from "./nodes.ts";

const canRun = process.getuid?.() === 0;
let fake: FakeE2B;
beforeAll(async () => {
  if (canRun) fake = await startFakeE2B({ templates: { airlock: { binds: [{ host: nodeModules, sandbox: nodeModulesDir }], setup: prepareScript } } });
});
afterAll(async () => {
  await fake?.close();
});
afterEach(() => fake?.clearFaults());

const seed = { workspace: { files: { "NOTE.md": "made from the seed\n" } } };
const sandboxesOf = (sessionId: string) => fake.sandboxes().filter((s) => s.metadata["airlock.session"] === sessionId);
const steps = (events: AirlockEvent[]) => events.flatMap((e) => (e.type === "session.status" && e.data.step ? [e.data.step] : []));

/** Creates a session whose first sandbox is made but never stored: create's answer is lost. */
async function createLosingTheAnswer(node: TestServer): Promise<{ id: string; first: string }> {
  fake.fail({ route: "create", status: 0, answerLost: true });
  const res = await node.api("POST", "/v1/sessions", { agent: "scripted", provider: "e2b", ...seed });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.id as string;
  const first = await waitUntil("the first sandbox", 30_000, async () => sandboxesOf(id)[0]?.id);
  return { id, first };
}

/** The session becomes ready in a new sandbox made from the seed, the first one is gone, and a turn runs. */
async function expectRemade(node: TestServer, id: string, first: string) {
  const sse = new SseReader(`${node.url}/v1/sessions/${id}/events`);
  await sse.waitFor((evs) => hasStatus("ready")(evs) || hasStatus("failed")(evs), 60_000, "ready");
  expect(hasStatus("failed")(sse.events), JSON.stringify(sse.events.filter((e) => e.type === "session.status"))).toBe(false);
  expect(steps(sse.events)).toContain("making the sandbox again (the node that was making it stopped)");
  const live = sandboxesOf(id).filter((s) => s.state !== "killed");
  expect(live.map((s) => s.id)).not.toContain(first);
  expect(live).toHaveLength(1);
  expect((await node.api("GET", `/v1/sessions/${id}/files?path=NOTE.md`)).body.content).toBe("made from the seed\n");
  const turn = (await node.api("POST", `/v1/sessions/${id}/prompt`, { text: "echo remade" })).body.turnId;
  await sse.waitFor(turnEnded(turn), 30_000, "turn");
  expect(textOf(sse.events, turn)).toContain("remade");
  sse.close();
}

describe.skipIf(!canRun)("a sandbox that was being made when its node died", () => {
  let server: TestServer | null = null;
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await server?.stop();
    if (server) removeDir(server.dataDir);
    server = null;
    await cluster?.stop();
    cluster = null;
  }, 60_000);

  it("is made again after a restart of the only node (SQLite)", async () => {
    server = await startServer(fake.env);
    const { id, first } = await createLosingTheAnswer(server);
    await server.kill();
    await server.restart();
    await expectRemade(server, id, first);
  }, 120_000);

  it("is made again by the node that takes the session over (PostgreSQL)", async () => {
    cluster = await startCluster(2, fake.env);
    const [a, b] = cluster.nodes;
    const { id, first } = await createLosingTheAnswer(a);
    await a.kill();
    await waitUntil("node-b to take over", 15_000, async () => (await ownerOf(b, id)) === "node-b");
    await expectRemade(b, id, first);
  }, 120_000);
});
