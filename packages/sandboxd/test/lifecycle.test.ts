/**
 * sandboxd's life around the agent's: the agent crashing, shutdown killing the whole group, SIGTERM,
 * a restart on the same state folder, exit once the control plane holds the exit record.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JournalRecord } from "@airlock/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { SandboxdError } from "../src/index.ts";
import { alive, Lab, until } from "./harness.ts";

const lab = new Lab();
afterAll(() => {
  const leftovers = lab.killLeftovers();
  lab.cleanup();
  expect(leftovers).toEqual([]);
});

type Rec<K extends JournalRecord["kind"]> = Extract<JournalRecord, { kind: K }>;
const journalOf = (stateDir: string): JournalRecord[] =>
  readFileSync(join(stateDir, "journal.ndjson"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe("sandboxd lifecycle", () => {
  it("journals an agent crash, keeps serving, and exits once the exit record is acknowledged", async () => {
    const s = await lab.start();
    await s.request("stderr", { text: "about to fail\n" });
    await s.client.send({ jsonrpc: "2.0", id: "x", method: "exit", params: { code: 7 } });
    const exit = await s.waitFor<Rec<"exit">>("exit record", (r) => r.kind === "exit");
    expect(exit).toMatchObject({ code: 7, signal: null, requested: false });

    const health = await s.client.health();
    expect(health).toMatchObject({ agentRunning: false, exit: { code: 7, signal: null }, lastSeq: exit.seq });
    const refused = await s.client.send({ jsonrpc: "2.0", id: "y", method: "echo" }).catch((e) => e);
    expect(refused).toBeInstanceOf(SandboxdError);
    expect(refused.status).toBe(409);

    // Still there while the exit record is not acknowledged ...
    await s.client.ack(exit.seq - 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(s.state.pid)).toBe(true);
    // ... gone once it is, with its state file and socket.
    await s.client.ack(exit.seq);
    await until("sandboxd to exit", () => !alive(s.state.pid), 3000);
    expect(existsSync(join(s.stateDir, "sandboxd.json"))).toBe(false);
    expect(existsSync(join(s.stateDir, "s.sock"))).toBe(false);
    const records = journalOf(s.stateDir);
    expect(records.at(-1)).toMatchObject({ kind: "exit", code: 7 });
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
  });

  it("on shutdown kills the agent's whole process group (SIGKILL after a grace when the end of stdin and SIGTERM are ignored) and its terminals, then exits", async () => {
    const s = await lab.start();
    const { childPid, grandchildPid } = await s.request("spawn");
    lab.track(childPid);
    lab.track(grandchildPid);
    expect(alive(grandchildPid)).toBe(true);
    const { response } = await s.request("call", { method: "terminal/create", params: { sessionId: "s1", command: "sleep", args: ["60"] } });
    const terminalId = response.result.terminalId;
    await s.request("ignoreTerm");

    const started = Date.now();
    expect(await s.client.shutdown()).toEqual({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500); // the agent ignored both
    for (const pid of [s.state.agentPid!, childPid, grandchildPid]) expect(alive(pid), `pid ${pid}`).toBe(false);
    const exit = await s.waitFor<Rec<"exit">>("exit record", (r) => r.kind === "exit");
    expect(exit).toMatchObject({ requested: true, signal: "SIGKILL" });
    await s.waitFor("the terminal's exit", (r) => r.kind === "terminal" && r.terminalId === terminalId && r.stream === "exit");
    // Nobody acknowledges: it exits by itself shortly after.
    await until("sandboxd to exit", () => !alive(s.state.pid), 5000);
  });

  it("on SIGTERM stops the agent by closing its stdin first (it exits cleanly), then exits", async () => {
    const s = await lab.start();
    await s.request("echo");
    process.kill(s.state.pid, "SIGTERM");
    await until("sandboxd to exit", () => !alive(s.state.pid), 5000);
    expect(alive(s.state.agentPid!)).toBe(false);
    expect(journalOf(s.stateDir).at(-1)).toMatchObject({ kind: "exit", requested: true, code: 0, signal: null });
  });

  it("continues the journal's seq when restarted on the same state folder", async () => {
    const first = await lab.start();
    await first.request("burst", { n: 3000 });
    await first.stop();
    const before = journalOf(first.stateDir);
    expect(before.at(-1)!.kind).toBe("exit");

    const second = await lab.start({ stateDir: first.stateDir, workspace: first.workspace });
    expect(second.state.agentPid).not.toBe(first.state.agentPid);
    await second.request("echo", { again: true });
    const all = await second.readAll();
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.slice(0, before.length)).toEqual(before);
    expect(all[before.length]).toMatchObject({ seq: before.length + 1, kind: "started", pid: second.state.agentPid });
    // Old records come from the file through the same stream API.
    const abort = new AbortController();
    const firsts: number[] = [];
    await second.client.follow(
      1500,
      (batch) => {
        firsts.push(batch[0].seq);
        abort.abort();
      },
      abort.signal,
    );
    expect(firsts).toEqual([1501]);
    await second.stop();
  });

  it("writes the agent's pid to the cgroup files it can, and journals an agent that cannot start", async () => {
    const folder = lab.folder("cgroup");
    const procs = join(folder, "cgroup.procs");
    writeFileSync(procs, "");
    const gone = join(folder, "gone", "cgroup.procs");
    const s = await lab.start({ cgroupProcs: [procs, gone] });
    expect(readFileSync(procs, "utf8")).toBe(String(s.state.agentPid));
    expect(existsSync(gone)).toBe(false);
    expect(readFileSync(join(s.stateDir, "sandboxd.log"), "utf8")).toContain(`could not add the agent to ${gone}`);
    await s.stop();

    const broken = await lab.start({ argv: ["/no/such/agent"] });
    const exit = await broken.waitFor<Rec<"exit">>("exit record", (r) => r.kind === "exit");
    expect(exit).toMatchObject({ code: 127, requested: false });
    expect(broken.records.filter((r) => r.kind === "stderr").map((r) => (r as Rec<"stderr">).data).join("")).toMatch(/could not start the agent: .*ENOENT/);
    await broken.client.ack(exit.seq);
    await until("sandboxd to exit", () => !alive(broken.state.pid), 3000);
  });
});
