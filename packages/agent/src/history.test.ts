import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HistoryFile, type SavedSession } from "./history.ts";
import type { ChatMessage } from "./session.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const stateDir = () => {
  const d = mkdtempSync(join(tmpdir(), "airlock-history-"));
  dirs.push(d);
  return d;
};
const session = (messages: ChatMessage[], allowAlways: string[] = []): SavedSession => ({ version: 1, cwd: "/workspace", modeId: "ask", allowAlways, messages });
const lines = (dir: string) => readFileSync(join(dir, "sessions", "s1.jsonl"), "utf8").trim().split("\n");

describe("history file", () => {
  it("appends only what changed, and reads back the conversation as it was last saved", () => {
    const dir = stateDir();
    const { file, saved } = HistoryFile.open(dir, "s1");
    expect(saved).toBeNull();
    const messages: ChatMessage[] = [{ role: "user", content: [{ type: "text", text: "hello" }] }];
    file.save(session(messages));
    file.save(session(messages)); // nothing new: nothing written
    expect(lines(dir)).toHaveLength(2);
    messages.push({ role: "assistant", content: [{ type: "text", text: "hi" }] });
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "one" }] });
    file.save(session(messages));
    // More added to the last message (as Session.addUser does): that message again, once.
    messages[2] = { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "one" }, { type: "text", text: "and more" }] };
    file.save(session(messages, ["write_file"]));
    expect(lines(dir).map((l) => Object.keys(JSON.parse(l))[0])).toEqual(["settings", "message", "message", "message", "settings", "last"]);

    const again = HistoryFile.open(dir, "s1");
    expect(again.saved).toEqual(session(messages, ["write_file"]));
    // The reopened file goes on appending after what it read.
    messages.push({ role: "assistant", content: [{ type: "text", text: "done" }] });
    again.file.save(session(messages, ["write_file"]));
    expect(lines(dir)).toHaveLength(7);
    expect(HistoryFile.open(dir, "s1").saved?.messages).toEqual(messages);
  });

  it("costs each save what it added: a long conversation is not written again on every save", () => {
    const dir = stateDir();
    const { file } = HistoryFile.open(dir, "s1");
    const messages: ChatMessage[] = [];
    const big = "x".repeat(10_000);
    for (let i = 0; i < 100; i++) {
      messages.push({ role: i % 2 ? "assistant" : "user", content: [{ type: "text", text: `${i} ${big}` }] });
      file.save(session(messages));
    }
    // 100 messages of 10 KB: about 1 MB on disk, where whole-session saves would have written ~50 MB.
    expect(readFileSync(join(dir, "sessions", "s1.jsonl")).length).toBeLessThan(1.1e6);
    expect(HistoryFile.open(dir, "s1").saved?.messages).toHaveLength(100);
  });

  it("skips a last line that a crash cut short", () => {
    const dir = stateDir();
    const { file } = HistoryFile.open(dir, "s1");
    const messages: ChatMessage[] = [{ role: "user", content: "first" }];
    file.save(session(messages));
    appendFileSync(join(dir, "sessions", "s1.jsonl"), '{"message":{"role":"assistant","content":"cut sh');
    expect(HistoryFile.open(dir, "s1").saved?.messages).toEqual(messages);
  });

  it("reads an earlier agent's whole-session file, and writes it out whole as its first save", () => {
    const dir = stateDir();
    mkdirSync(join(dir, "sessions"));
    const old = session([{ role: "user", content: "from before" }], ["run_command"]);
    writeFileSync(join(dir, "sessions", "s1.json"), JSON.stringify(old));
    const { file, saved } = HistoryFile.open(dir, "s1");
    expect(saved).toEqual(old);
    file.save({ ...old, messages: [...old.messages, { role: "assistant", content: "now" }] });
    expect(HistoryFile.open(dir, "s1").saved?.messages).toEqual([...old.messages, { role: "assistant", content: "now" }]);
  });

  it("keeps nothing on disk without a state folder or for an id that could name another path", () => {
    const dir = stateDir();
    for (const [where, id] of [
      [null, "s1"],
      [dir, "../escape"],
    ] as const) {
      const { file, saved } = HistoryFile.open(where, id);
      expect(saved).toBeNull();
      file.save(session([{ role: "user", content: "x" }]));
    }
    expect(existsSync(join(dir, "sessions")) ? readdirSync(join(dir, "sessions")) : []).toEqual([]);
  });
});
