/**
 * The SDK against a real server (child process, real sandboxes, the scripted agent): the event iterator across a
 * SIGKILL and restart of the server, idempotent prompts retried after lost answers, the README's example, and the
 * SDK's types as a consumer project sees them.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, removeDir, startServer } from "../../server/test/harness.ts";
import { type AirlockEvent, AirlockClient } from "../src/index.ts";

const run = promisify(execFile);
const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "../../..");

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const client = (options: ConstructorParameters<typeof AirlockClient>[0] = {}) => new AirlockClient({ baseUrl: server.url, ...options });

/** Resolves once `predicate` holds over `events`, checked after each new event. */
async function until(events: AirlockEvent[], predicate: (events: AirlockEvent[]) => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate(events)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; have ${events.length} events`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("session.events()", () => {
  it("yields every seq once, in order, across a SIGKILL and restart of the server, and ends when the session is final", async () => {
    const airlock = client({ retry: { retries: 8, initialDelayMs: 200, maxDelayMs: 1000 } });
    const session = await airlock.createSession({ agent: "scripted" });
    const seen: AirlockEvent[] = [];
    const statuses: string[] = [];
    const following = (async () => {
      for await (const event of session.events({ backoff: { initialMs: 200, maxMs: 1000 }, onStatus: (s) => statuses.push(s) })) seen.push(event);
    })();
    await until(seen, (es) => es.some((e) => e.type === "session.status" && e.data.status === "ready"), "ready");
    const { turnId } = await session.prompt("slow 4");
    await until(seen, (es) => es.filter((e) => e.type === "update").length >= 5, "the first chunks");
    await server.kill();
    const atKill = seen.length;
    await server.restart();
    await until(seen, (es) => es.some((e) => e.type === "turn.ended" && e.turnId === turnId), "the turn's end after the restart");
    expect(seen.length).toBeGreaterThan(atKill);
    expect(statuses).toContain("reconnecting");
    // The turn went on in its sandbox while the server was down: every chunk of it arrived.
    const chunks = seen.filter((e) => e.type === "update" && e.turnId === turnId).map((e) => (e.type === "update" && e.data.sessionUpdate === "agent_message_chunk" && e.data.content.type === "text" ? e.data.content.text : ""));
    expect(chunks.join("")).toMatch(/chunk 1, .*chunk 40\. Done\./);

    await session.delete();
    await following; // ends by itself: the session is final
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    const stored: AirlockEvent[] = [];
    for (let after = 0; ; ) {
      const page = await session.readEvents({ after, limit: 1000 });
      if (page.events.length === 0) break;
      stored.push(...page.events);
      after = page.nextAfter;
    }
    expect(seen).toEqual(stored);
    expect(statuses.at(-1)).toBe("ended");
  });
});

describe("services", () => {
  it("lists a session's setup services and reads a service's log, typed", async () => {
    const airlock = client();
    const session = await airlock.createSession({
      agent: "scripted",
      setup: { services: [{ name: "ticker", command: "echo tick one; echo tick two; sleep 600" }] },
    });
    const seen: AirlockEvent[] = [];
    const following = (async () => {
      for await (const event of session.events()) {
        seen.push(event);
        if (event.type === "session.status" && event.data.status === "ready") break;
      }
    })();
    await following;
    const list = await airlock.sessions.services(session.id);
    expect(list.services.map((s) => [s.name, s.status])).toEqual([["ticker", "running"]]);
    let log = await session.serviceLog("ticker", { tail: 2 });
    for (let i = 0; i < 20 && log.lines.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      log = await session.serviceLog("ticker", { tail: 2 });
    }
    expect(log).toEqual({ name: "ticker", lines: ["tick one", "tick two"], truncated: true });
    await airlock.sessions.delete(session.id);
  });
});

describe("idempotent prompts", () => {
  it("a prompt whose answer was lost three times is sent four times under one key and queues one turn", async () => {
    let lost = 0;
    const keys: string[] = [];
    // The server gets each attempt and answers it; the answer is lost on the way back three times.
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith("/prompt")) {
        keys.push((init?.headers as Record<string, string>)["idempotency-key"]);
        if (lost < 3) {
          lost++;
          await res.text();
          throw new TypeError("fetch failed: the connection was reset");
        }
      }
      return res;
    };
    const airlock = client({ fetch: lossy, retry: { retries: 4, initialDelayMs: 50, maxDelayMs: 200 } });
    const session = await airlock.createSession({ agent: "scripted" });
    const result = await session.run("echo just once");
    expect(result).toMatchObject({ stopReason: "end_turn", text: "echo just once" });
    expect(keys).toHaveLength(4);
    expect(new Set(keys).size).toBe(1);
    const log = (await session.readEvents({ limit: 1000 })).events;
    expect(log.filter((e) => e.type === "turn.started").map((e) => e.turnId)).toEqual([result.turnId]);
    expect((await session.refresh()).queuedTurns).toBe(0);
    // The caller's own retries with its own key: the same turn each time.
    const again = await Promise.all([1, 2, 3].map(() => session.prompt("echo mine", { idempotencyKey: "caller-key-1" })));
    expect(new Set(again.map((a) => a.turnId)).size).toBe(1);
    await session.delete();
  });
});

describe("the READMEs", () => {
  /** Runs a README's TypeScript example as a program, with AIRLOCK_URL pointing at the test server. */
  async function runExample(readme: string, section: RegExp): Promise<string> {
    const text = readFileSync(readme, "utf8");
    const example = text.slice(text.search(section)).match(/```ts\n([\s\S]*?)```/)![1];
    const dir = mkdtempSync(join(here, ".readme-"));
    try {
      writeFileSync(join(dir, "example.ts"), example);
      const { stdout } = await run(process.execPath, ["--import", "tsx", join(dir, "example.ts")], { cwd: root, env: { ...process.env, AIRLOCK_URL: server.url }, timeout: 60_000 });
      return stdout;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("the package's 10-line example runs a task and prints the agent's text", async () => {
    const readme = join(here, "../README.md");
    const code = readFileSync(readme, "utf8").match(/```ts\n([\s\S]*?)```/)![1];
    expect(code.split("\n").filter((l) => l.trim()).length).toBeLessThanOrEqual(12);
    const stdout = await runExample(readme, /## Run a task/);
    expect(stdout).toContain("Wrote notes.md (1 line, 6 bytes).");
    expect(stdout).toContain("end_turn");
    expect(stdout).toContain("+hello");
  });

  it("the repository README's SDK example runs the task, then prints the whole log and ends", async () => {
    const stdout = await runExample(join(root, "README.md"), /## SDK/);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^end_turn Wrote notes\.md \(1 line, 6 bytes\)\. /);
    const seqs = lines.slice(1).map((l) => Number(l.split(" ")[0]));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(lines.at(-1)).toMatch(/session\.status$/);
  });
});

describe("the SDK's types", () => {
  it("type-check in a consumer project (strict, no Node types), and reject its mistakes", async () => {
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const project = join(here, "fixtures/consumer/tsconfig.json");
    const result = await run(process.execPath, [tsc, "-p", project], { cwd: root }).then(
      () => ({ code: 0, out: "" }),
      (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
    );
    expect(result.out).toBe("");
    expect(result.code).toBe(0);
  });
});
