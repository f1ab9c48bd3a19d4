/**
 * What outlives the CLI: interactions answered elsewhere while it waits (durable HITL), detaching and attaching
 * again after the server was killed and restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AirlockEvent } from "@airlock/client";
import { type TestServer, removeDir, startServer } from "../../server/test/harness.ts";
import { inTerminal, piped, runCli } from "./terminal.ts";

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

async function storedLog(id: string): Promise<AirlockEvent[]> {
  const events: AirlockEvent[] = [];
  for (let after = 0; ; ) {
    const page = await server.api("GET", `/v1/sessions/${id}/events?after=${after}&limit=1000`);
    if (page.body.events.length === 0) return events;
    events.push(...page.body.events);
    after = page.body.nextAfter;
  }
}

describe("permissions without a terminal", () => {
  it("--approve none prints the pending interaction and waits until it is answered over the API", async () => {
    const cli = piped(["run", "--agent", "scripted", "--approve", "none", "--json", "permission"], env);
    await cli.waitFor(() => cli.json().some((e) => e.type === "interaction.requested"), "the permission request");
    const requested = cli.json().find((e) => e.type === "interaction.requested");
    await cli.waitFor(() => cli.stderr().includes("waiting for an answer"), "the note on stderr");
    expect(cli.stderr()).toContain(`airlock answer ${requested.sessionId} ${requested.data.interactionId}`);
    // It waits: nothing is answered, the turn does not end, the CLI keeps running.
    const view = await server.api("GET", `/v1/sessions/${requested.sessionId}`);
    expect(view.body.pendingInteractions.map((i: { id: string }) => i.id)).toEqual([requested.data.interactionId]);
    expect(cli.proc.exitCode).toBeNull();
    const answered = await server.api("POST", `/v1/sessions/${requested.sessionId}/interactions/${requested.data.interactionId}`, { optionId: "reject" });
    expect(answered.status).toBe(200);
    expect(await cli.exited).toBe(0);
    const lines = cli.json();
    expect(lines.find((e) => e.type === "interaction.resolved")).toMatchObject({ data: { optionId: "reject", outcome: "selected" } });
    expect(lines.at(-1)).toMatchObject({ type: "result", stopReason: "end_turn", text: "Permission denied: I left permitted.txt alone." });
  });

  it("--approve edits allows an edit by itself; another terminal's `airlock answer` reaches a waiting one", async () => {
    const auto = await runCli(["run", "--agent", "scripted", "--approve", "edits", "permission"], env);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stdout).toContain("Permission granted (allow)");

    const waiting = inTerminal(["run", "--agent", "scripted", "permission"], env);
    await waiting.waitFor("1. Allow");
    const sid: string = (await server.api("GET", "/v1/sessions?status=awaiting_input")).body.sessions[0].id;
    const other = await runCli(["answer", sid, "always"], env);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toMatch(/answered int_[0-9a-f]+: allow_always/);
    expect(await waiting.exited).toBe(0);
    // The inline prompt was taken away when the answer came from elsewhere.
    expect(waiting.screen()).not.toContain("Esc leaves it");
    expect(waiting.screen(), waiting.raw()).toContain("✓ allow_always");
  });
});

describe("detach and attach", () => {
  it("Ctrl-C twice detaches; after a SIGKILL and restart of the server, attach replays and follows the log, equal to the stored one", async () => {
    // An agent slow to honour a cancel: the second Ctrl-C comes before the turn ended.
    const cli = inTerminal(["run", "--agent", "scripted", "stubborn 3"], env);
    await cli.waitFor("tick 2");
    cli.type("\x03");
    await cli.waitFor("Ctrl-C again to detach");
    cli.type("\x03");
    expect(await cli.exited).toBe(130);
    const detached = cli.screen().match(/airlock attach (ses_[0-9a-f]+) --after (\d+)/)!;
    expect(detached).not.toBeNull();
    const id = detached[1];

    await server.kill();
    await server.restart();
    const attachEnv = { AIRLOCK_URL: server.url };
    const attached = piped(["attach", id, "--json"], attachEnv);
    await attached.waitFor(() => attached.json().some((e) => e.type === "turn.ended"), "the turn's end");
    // Settled (ready after the turn): the attached CLI has shown the whole stored log, and nothing else.
    const deadline = Date.now() + 30_000;
    let view = (await server.api("GET", `/v1/sessions/${id}`)).body;
    while (!(view.status === "ready" && attached.json().at(-1)?.seq === view.lastSeq)) {
      if (Date.now() > deadline) throw new Error(`attach did not catch up: ${JSON.stringify(view)}\n${attached.stdout()}`);
      await new Promise((r) => setTimeout(r, 50));
      view = (await server.api("GET", `/v1/sessions/${id}`)).body;
    }
    // The stubborn agent may still print a tick after its turn ended: compare once the CLI has what is stored now.
    let stored = await storedLog(id);
    while (attached.json().at(-1)?.seq !== stored.at(-1)?.seq && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      stored = await storedLog(id);
    }
    expect(attached.json()).toEqual(stored);
    // Following, not ended: the session goes on.
    expect(attached.proc.exitCode).toBeNull();
    attached.proc.kill("SIGINT");
    expect(await attached.exited).toBe(130);

    // In a terminal, from a seq: the rest of the log in the human layout.
    const human = inTerminal(["attach", id, "--after", detached[2]], attachEnv);
    await human.waitFor(/── (end_turn|cancelled)/);
    human.type("\x03");
    expect(await human.exited).toBe(130);
    expect(human.screen()).toContain("detached");
  });
});
