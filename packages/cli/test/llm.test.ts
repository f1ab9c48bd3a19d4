/**
 * The CLI with an agent that calls an LLM: Airlock's built-in agent against the test kit's scripted Anthropic
 * server (the only fake: the model). Usage and cost at the end of a turn, and the exit code of a spent budget.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeAnthropic, startFakeAnthropic } from "@airlock/testkit/fake-anthropic";
import { type TestServer, removeDir, startServer } from "../../server/test/harness.ts";
import { inTerminal, runCli } from "./terminal.ts";

const realKey = "sk-ant-real-key-for-the-cli";
let llm: FakeAnthropic;
let server: TestServer;
let env: Record<string, string>;
beforeAll(async () => {
  llm = await startFakeAnthropic({ apiKey: realKey });
  llm.respond(() => ({ thinking: "The user greets me; I greet back.", text: "Hello from the model.", usage: { input: 1200, output: 30 } }));
  server = await startServer({ ANTHROPIC_BASE_URL: llm.url, ANTHROPIC_API_KEY: realKey });
  env = { AIRLOCK_URL: server.url };
});
afterAll(async () => {
  await server?.stop();
  await llm?.close();
  if (server) removeDir(server.dataDir);
});

describe("a turn of an LLM agent", () => {
  it("ends with its tokens and cost, in the terminal and in the --json result", async () => {
    const cli = inTerminal(["run", "--agent", "airlock", "hello"], env);
    expect(await cli.exited).toBe(0);
    const screen = cli.screen();
    expect(screen).toContain("✻ thought (7 words): The user greets me; I greet back.");
    expect(screen).toContain("Hello from the model.");
    expect(screen).toMatch(/── end_turn · \d+\.\ds · 1,200 in · 30 out · \$0\.0\d{3}/);

    const json = await runCli(["run", "--agent", "airlock", "--json", "hello"], env);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout.trimEnd().split("\n").at(-1)!);
    expect(result).toMatchObject({ type: "result", stopReason: "end_turn", text: "Hello from the model.", usage: { inputTokens: 1200, outputTokens: 30 } });
    expect(result.usage.costUsd).toBeGreaterThan(0);
  });

  it("exits 4 when the session's budget stopped the turn", async () => {
    const first = await runCli(["run", "--agent", "airlock", "--budget", "0.0001", "hello"], env);
    expect(first.code, first.stderr).toBe(0);
    const id = first.stdout.match(/session (ses_[0-9a-f]+) ·/)![1];
    const second = await runCli(["prompt", id, "hello again"], env);
    expect(second.stdout).toMatch(/error \[budget_exceeded\]: Airlock: this session's budget of \$0\.0001 is spent/);
    expect(second.code).toBe(4);
  });
});
