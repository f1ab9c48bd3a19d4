/**
 * Files an agent changes with its own tools (not through `fs/*`), found by the relay's snapshot compare when a
 * tool call ends and when a turn ends; a write through `fs/write_text_file` still gives exactly one record; a
 * workspace with a 50 MB binary file and node_modules stays cheap to follow.
 */
import { mkdirSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JournalRecord } from "@airlock/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { Lab, type Sandbox } from "./harness.ts";

const lab = new Lab();
const started: Sandbox[] = [];
afterAll(async () => {
  for (const s of started) await s.stop();
  const leftovers = lab.killLeftovers();
  lab.cleanup();
  expect(leftovers).toEqual([]);
});

type FileRecord = Extract<JournalRecord, { kind: "file" }>;
const files = (s: Sandbox, after = 0) => s.records.filter((r): r is FileRecord => r.kind === "file" && r.seq > after);

async function start(seed: Record<string, string> = {}): Promise<Sandbox> {
  const workspace = lab.folder("workspace");
  for (const [path, content] of Object.entries(seed)) {
    mkdirSync(join(workspace, path, ".."), { recursive: true });
    writeFileSync(join(workspace, path), content);
  }
  const s = await lab.start({ workspace });
  started.push(s);
  await s.request("initialize");
  return s;
}

const toolDone = (id: string) => ({ method: "session/update", params: { sessionId: "s1", update: { sessionUpdate: "tool_call_update", toolCallId: id, status: "completed" } } });

describe("changes made by the agent's own tools", () => {
  it("journals a change right after the tool call that made it ends", async () => {
    const s = await start({ "notes.txt": "one\ntwo\n" });
    writeFileSync(join(s.workspace, "notes.txt"), "one\nTWO\n");
    writeFileSync(join(s.workspace, "made.txt"), "new\n");
    await s.request("notify", toolDone("call-1"));
    const update = await s.waitFor("the tool call's end", (r) => r.kind === "agent" && (r.msg as any).params?.update?.toolCallId === "call-1");
    await s.waitFor("two file records", () => files(s).length >= 2);
    const [a, b] = files(s).sort((x, y) => x.path.localeCompare(y.path));
    expect(a).toMatchObject({ path: "made.txt", change: "created" });
    expect(a.diff).toContain("+new");
    expect(b).toMatchObject({ path: "notes.txt", change: "modified" });
    expect(b.diff).toContain("-two\n+TWO");
    // The records follow the tool call's end at once.
    expect(Math.min(a.seq, b.seq)).toBe(update.seq + 1);
  });

  it("does not compare when a read-only tool call ends (the turn's end still does)", async () => {
    const s = await start();
    writeFileSync(join(s.workspace, "quiet.txt"), "made meanwhile\n");
    const update = (u: object) => ({ method: "session/update", params: { sessionId: "s1", update: { toolCallId: "read-1", ...u } } });
    await s.request("notify", update({ sessionUpdate: "tool_call", kind: "read", status: "in_progress", title: "Read a file" }));
    await s.request("notify", update({ sessionUpdate: "tool_call_update", status: "completed" }));
    await s.request("echo", {});
    await new Promise((r) => setTimeout(r, 200));
    await s.request("echo", {});
    expect(files(s)).toEqual([]);
    await s.client.send({ jsonrpc: "2.0", id: "turn_r", method: "session/prompt", params: { sessionId: "s1", prompt: [] } });
    const answer = await s.waitFor("the turn's answer", (r) => r.kind === "agent" && (r.msg as any).id === "turn_r");
    expect(files(s).map((r) => [r.path, r.seq < answer.seq])).toEqual([["quiet.txt", true]]);
  });

  it("journals a turn's changes before the turn's answer, deletions included", async () => {
    const s = await start({ "old.txt": "bye\n" });
    await s.client.send({ jsonrpc: "2.0", id: "turn_1", method: "session/prompt", params: { sessionId: "s1", prompt: [], shell: "echo hi > f; rm old.txt" } });
    const answer = await s.waitFor("the turn's answer", (r) => r.kind === "agent" && (r.msg as any).id === "turn_1");
    const records = files(s);
    expect(records.map((r) => `${r.change} ${r.path}`).sort()).toEqual(["created f", "deleted old.txt"]);
    expect(records.every((r) => r.seq < answer.seq)).toBe(true);
    expect(records.find((r) => r.path === "old.txt")!.diff).toContain("-bye");
    expect(records.find((r) => r.path === "f")!.diff).toContain("+hi");
  });

  it("gives one record for a write through fs/write_text_file, however many compares follow", async () => {
    const s = await start();
    const answer = await s.agentCalls("fs/write_text_file", { sessionId: "s1", path: join(s.workspace, "w.txt"), content: "via fs\n" });
    expect(answer).toMatchObject({ result: {} });
    await s.request("notify", toolDone("call-2"));
    await s.client.send({ jsonrpc: "2.0", id: "turn_2", method: "session/prompt", params: { sessionId: "s1", prompt: [] } });
    await s.waitFor("the turn's answer", (r) => r.kind === "agent" && (r.msg as any).id === "turn_2");
    expect(files(s).map((r) => `${r.change} ${r.path}`)).toEqual(["created w.txt"]);
  });

  it("follows a workspace with a 50 MB binary and node_modules cheaply, and summarizes the binary's change", async () => {
    const workspace = lab.folder("big");
    writeFileSync(join(workspace, "data.bin"), "");
    truncateSync(join(workspace, "data.bin"), 50 * 1024 * 1024);
    for (let p = 0; p < 50; p++) {
      const dir = join(workspace, "node_modules", `pkg${p}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 40; f++) writeFileSync(join(dir, `f${f}.js`), "module.exports = 1;\n");
    }
    const s = await lab.start({ workspace });
    started.push(s);
    await s.request("initialize");
    truncateSync(join(workspace, "data.bin"), 50 * 1024 * 1024 + 1);
    writeFileSync(join(workspace, "node_modules", "pkg0", "f0.js"), "changed\n");
    unlinkSync(join(workspace, "node_modules", "pkg1", "f1.js"));
    const began = Date.now();
    await s.client.send({ jsonrpc: "2.0", id: "turn_3", method: "session/prompt", params: { sessionId: "s1", prompt: [] } });
    await s.waitFor("the turn's answer", (r) => r.kind === "agent" && (r.msg as any).id === "turn_3");
    expect(Date.now() - began).toBeLessThan(2000);
    const records = files(s);
    expect(records.map((r) => `${r.change} ${r.path}`)).toEqual(["modified data.bin"]);
    expect(records[0].truncated).toBe(true);
    expect(records[0].diff.length).toBeLessThan(200);
    expect(records[0].diff).toContain(`${50 * 1024 * 1024 + 1} bytes`);
  });
});
