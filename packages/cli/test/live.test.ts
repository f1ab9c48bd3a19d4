/**
 * `airlock run` and `airlock prompt` as a person sees them in a terminal, and as a script reads them with
 * `--json`: a real server, real sandboxes, the scripted agent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/client";
import { type TestServer, removeDir, startServer } from "../../server/test/harness.ts";
import { inTerminal, runCli } from "./terminal.ts";

let server: TestServer;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startServer();
  env = { AIRLOCK_URL: server.url };
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const sessionIdOn = (screen: string) => screen.match(/session (ses_[0-9a-f]+) ·/)?.[1];

/** The whole stored log of a session, read through the API's JSON pages. */
async function storedLog(id: string): Promise<AirlockEvent[]> {
  const events: AirlockEvent[] = [];
  for (let after = 0; ; ) {
    const page = await server.api("GET", `/v1/sessions/${id}/events?after=${after}&limit=1000`);
    if (page.body.events.length === 0) return events;
    events.push(...page.body.events);
    after = page.body.nextAfter;
  }
}

describe("airlock run in a terminal", () => {
  it("streams the agent's text, a tool call with its status and a coloured diff, then the turn's summary", async () => {
    const cli = inTerminal(["run", "--agent", "scripted", "tool"], env);
    expect(await cli.exited).toBe(0);
    const screen = cli.screen();
    expect(screen).toMatch(/● ready/);
    expect(screen).toContain("❯ tool");
    // The tool call's line was rewritten in place: its final status only, once.
    expect(screen.match(/Edit greeting\.ts/g)).toHaveLength(1);
    expect(screen).toContain("✓ Edit greeting.ts");
    expect(screen).toContain('-export const greeting = "Hello";');
    expect(screen).toContain('+export const greeting = "Hello, world";');
    expect(cli.colorOf('-export const greeting = "Hello";')).toBe(1); // red
    expect(cli.colorOf('+export const greeting = "Hello, world";')).toBe(2); // green
    expect(screen).toContain('I changed the greeting in greeting.ts to "Hello, world".');
    expect(screen).toMatch(/── end_turn · \d+\.\ds/);
    // The provisioning line was one line, rewritten: no step of it is left on the screen.
    expect(screen).not.toContain("provisioning");
    const id = sessionIdOn(screen)!;
    expect(id).toBeDefined();

    // The same session again: terminal output, a plan checked off in place, thinking collapsed to one line.
    const more = inTerminal(["prompt", id, "run echo hello-from-the-sandbox"], env);
    expect(await more.exited).toBe(0);
    expect(more.screen()).toMatch(/│ hello-from-the-sandbox\n│ exit 0/);
    const plan = inTerminal(["prompt", id, "plan"], env);
    expect(await plan.exited).toBe(0);
    expect(plan.screen()).toMatch(/☑ Read the relevant code\n☑ Make the change\n☑ Run the tests/);
    expect(plan.screen().match(/Make the change/g)).toHaveLength(1);
    const think = inTerminal(["prompt", id, "think"], env);
    expect(await think.exited).toBe(0);
    expect(think.screen()).toMatch(/✻ thought \(\d+ words\): The user wants to see how thinking looks/);
    expect(think.screen()).not.toContain("✻ thinking");
    expect(think.screen()).toContain("thinking and answering can take turns.");
  });

  it("asks a permission inline with the agent's own options, and goes on once one is chosen", async () => {
    const cli = inTerminal(["run", "--agent", "scripted", "permission"], env);
    await cli.waitFor(/› 1\. Allow\n\s+2\. Always allow\n\s+3\. Reject/);
    cli.type("1");
    expect(await cli.exited).toBe(0);
    const screen = cli.screen();
    expect(screen).toContain("✓ allow");
    expect(screen).toContain("Permission granted (allow): I wrote \"approved\" to permitted.txt.");
    // The prompt itself is gone from the screen once answered.
    expect(screen).not.toContain("Esc leaves it");
    const id = sessionIdOn(screen)!;
    expect((await server.api("GET", `/v1/sessions/${id}/diff`)).body.diff).toContain("+approved");
  });

  it("asks a question's form inline, field by field, and sends the answers", async () => {
    const cli = inTerminal(["run", "--agent", "scripted", "ask"], env);
    await cli.waitFor("? What should I call you?:");
    cli.type("Ada");
    await cli.waitFor("? What should I call you?: Ada");
    cli.type("\r");
    await cli.waitFor(/Favourite colour\n\s+› 1\. red\n\s+2\. green/);
    cli.type("2");
    expect(await cli.exited).toBe(0);
    expect(cli.screen()).toContain('answered: {"name":"Ada","colour":"green"}');
    expect(cli.screen()).toContain("Nice to meet you, Ada! Green is a fine colour.");
  });

  it("cancels the running turn on Ctrl-C and exits 3", async () => {
    const cli = inTerminal(["run", "--agent", "scripted", "slow 30"], env);
    await cli.waitFor("chunk 3");
    cli.type("\x03");
    expect(await cli.exited).toBe(3);
    const screen = cli.screen();
    expect(screen).toContain("cancelling the turn");
    expect(screen).toMatch(/── cancelled/);
    expect(screen).not.toContain("chunk 300");
  });
});

describe("airlock run --json", () => {
  it("prints exactly the API's events, one per line, then a result line; parsed, they equal the API's JSON pages", async () => {
    const { code, stdout, stderr } = await runCli(["run", "--agent", "scripted", "--json", "write notes.md hello"], env);
    expect(code, stderr).toBe(0);
    expect(stdout.endsWith("\n")).toBe(true);
    const lines = stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    const result = lines.pop();
    expect(result).toMatchObject({ type: "result", stopReason: "end_turn", text: "Wrote notes.md (1 line, 6 bytes).", exitCode: 0, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 } });
    expect(lines.map((e) => e.seq)).toEqual(lines.map((_, i) => i + 1));
    const stored = await storedLog(result.sessionId);
    expect(lines).toEqual(stored.slice(0, lines.length));
    expect(result.lastSeq).toBe(lines.at(-1).seq);
    expect(lines.some((e) => e.type === "file.changed" && e.data.path === "notes.md")).toBe(true);
    expect(lines.at(-1)).toMatchObject({ type: "turn.ended", data: { turnId: result.turnId, stopReason: "end_turn" } });
  });
});
