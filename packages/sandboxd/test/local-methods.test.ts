/**
 * The agent's `fs/*` and `terminal/*` requests, answered by sandboxd inside the workspace: confinement
 * (`../`, absolute paths, symlinks), `file` records with diffs, terminals with `terminal` records.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JournalRecord } from "@airlock/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab, type Sandbox } from "./harness.ts";

const lab = new Lab();
let s: Sandbox;
let outside: string;

beforeAll(async () => {
  outside = lab.folder("outside");
  writeFileSync(join(outside, "secret.txt"), "secret\n");
  s = await lab.start({ limits: { maxDiffBytes: 2000 } });
});
afterAll(async () => {
  await s?.stop();
  const leftovers = lab.killLeftovers();
  lab.cleanup();
  expect(leftovers).toEqual([]);
});

type Rec<K extends JournalRecord["kind"]> = Extract<JournalRecord, { kind: K }>;
const ws = (p: string) => join(s.workspace, p);

describe("fs/* in the workspace", () => {
  it("writes a new file, then modifies it, with a file record carrying a unified diff", async () => {
    const created = await s.agentCalls("fs/write_text_file", { sessionId: "s1", path: ws("src/deep/a.txt"), content: "one\ntwo\n" });
    expect(created).toMatchObject({ result: {} });
    expect(readFileSync(ws("src/deep/a.txt"), "utf8")).toBe("one\ntwo\n");
    const first = await s.waitFor<Rec<"file">>("file record", (r) => r.kind === "file");
    expect(first).toMatchObject({ path: "src/deep/a.txt", change: "created" });
    expect(first.truncated).toBeUndefined();
    expect(first.diff).toContain("--- /dev/null");
    expect(first.diff).toContain("+++ b/src/deep/a.txt");
    expect(first.diff).toContain("+one\n+two");

    await s.agentCalls("fs/write_text_file", { sessionId: "s1", path: ws("src/deep/a.txt"), content: "one\nTWO\n" });
    const second = await s.waitFor<Rec<"file">>("second file record", (r) => r.kind === "file" && r.seq > first.seq);
    expect(second).toMatchObject({ path: "src/deep/a.txt", change: "modified" });
    expect(second.diff).toContain("--- a/src/deep/a.txt");
    expect(second.diff).toContain("-two\n+TWO");

    // The request and sandboxd's answer are both journaled: `agent`, then `local` with the same id.
    const request = s.records.find((r) => r.kind === "agent" && (r.msg as any).method === "fs/write_text_file") as Rec<"agent">;
    const answer = s.records.find((r) => r.kind === "local" && (r.msg as any).id === (request.msg as any).id) as Rec<"local">;
    expect(answer.seq).toBeGreaterThan(request.seq);
    expect(answer.msg).toEqual({ jsonrpc: "2.0", id: (request.msg as any).id, result: {} });
  });

  it("bounds a large diff and says it was cut", async () => {
    const content = Array.from({ length: 500 }, (_, i) => `line ${i}`).join("\n");
    await s.agentCalls("fs/write_text_file", { sessionId: "s1", path: ws("big.txt"), content });
    const record = await s.waitFor<Rec<"file">>("big file record", (r) => r.kind === "file" && r.path === "big.txt");
    expect(record.truncated).toBe(true);
    expect(Buffer.byteLength(record.diff)).toBeLessThanOrEqual(2000);
    expect(readFileSync(ws("big.txt"), "utf8")).toBe(content);
  });

  it("reads whole files and windows of lines", async () => {
    writeFileSync(ws("lines.txt"), "a\nb\nc\nd\n");
    expect((await s.agentCalls("fs/read_text_file", { sessionId: "s1", path: ws("lines.txt") })).result).toEqual({ content: "a\nb\nc\nd\n" });
    expect((await s.agentCalls("fs/read_text_file", { sessionId: "s1", path: ws("lines.txt"), line: 2, limit: 2 })).result).toEqual({ content: "b\nc" });
    expect((await s.agentCalls("fs/read_text_file", { sessionId: "s1", path: ws("lines.txt"), line: 3 })).result).toEqual({ content: "c\nd\n" });
    expect((await s.agentCalls("fs/read_text_file", { sessionId: "s1", path: ws("lines.txt"), line: 9 })).result).toEqual({ content: "" });
    const missing = await s.agentCalls("fs/read_text_file", { sessionId: "s1", path: ws("nope.txt") });
    expect(missing.error?.code).toBe(-32002);
    const bad = await s.agentCalls("fs/read_text_file", { sessionId: "s1", path: ws("lines.txt"), line: 0 });
    expect(bad.error?.code).toBe(-32602);
  });

  it("refuses paths outside the workspace: ../, absolute, and through symlinks", async () => {
    symlinkSync(outside, ws("link-out"));
    symlinkSync(join(outside, "planted.txt"), ws("dangling"));
    mkdirSync(ws("inner"));
    writeFileSync(ws("inner/ok.txt"), "fine\n");
    symlinkSync(ws("inner"), ws("link-in"));

    const refused = async (method: string, params: object) => {
      const answer = await s.agentCalls(method, { sessionId: "s1", ...params });
      expect(answer.result, `${method} ${JSON.stringify(params)}`).toBeUndefined();
      expect(answer.error?.code).toBe(-32602);
      return answer.error!.message;
    };
    await refused("fs/read_text_file", { path: ws("../outside-1/secret.txt") });
    await refused("fs/read_text_file", { path: join(outside, "secret.txt") });
    await refused("fs/read_text_file", { path: "/etc/hostname" });
    await refused("fs/read_text_file", { path: ws("link-out/secret.txt") });
    await refused("fs/write_text_file", { path: ws("../escape.txt"), content: "x" });
    await refused("fs/write_text_file", { path: ws("link-out/new.txt"), content: "x" });
    await refused("fs/write_text_file", { path: ws("link-out/sub/new.txt"), content: "x" });
    await refused("fs/write_text_file", { path: ws("link-out/secret.txt"), content: "overwritten" });
    await refused("fs/write_text_file", { path: ws("dangling"), content: "x" });
    expect(existsSync(join(s.workspace, "..", "escape.txt"))).toBe(false);
    expect(existsSync(join(outside, "new.txt"))).toBe(false);
    expect(existsSync(join(outside, "sub"))).toBe(false);
    expect(existsSync(join(outside, "planted.txt"))).toBe(false);
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("secret\n");

    // A symlink that stays inside is fine.
    expect((await s.agentCalls("fs/read_text_file", { sessionId: "s1", path: ws("link-in/ok.txt") })).result).toEqual({ content: "fine\n" });
    expect((await s.agentCalls("fs/write_text_file", { sessionId: "s1", path: ws("link-in/new.txt"), content: "in\n" })).result).toEqual({});
    expect(readFileSync(ws("inner/new.txt"), "utf8")).toBe("in\n");
  });

  it("does not hang on a FIFO or read a folder", async () => {
    execFileSync("mkfifo", [ws("pipe")]);
    const fifo = await s.agentCalls("fs/read_text_file", { sessionId: "s1", path: ws("pipe") });
    expect(fifo.error?.message).toMatch(/not a regular file/);
    const folder = await s.agentCalls("fs/read_text_file", { sessionId: "s1", path: s.workspace });
    expect(folder.error).toBeDefined();
    const unknown = await s.agentCalls("fs/delete_everything", { sessionId: "s1", path: ws("x") });
    expect(unknown.error?.code).toBe(-32601);
  });
});

describe("terminal/* in the sandbox", () => {
  const call = async (method: string, params: object) => {
    const answer = await s.agentCalls(method, { sessionId: "s1", ...params });
    if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
    return answer.result;
  };
  const recordsOf = (terminalId: string) => s.records.filter((r) => r.kind === "terminal" && r.terminalId === terminalId) as Rec<"terminal">[];

  it("runs a command with the agent's env plus its own, streams terminal records and reports the exit", async () => {
    const { terminalId } = await call("terminal/create", {
      command: "sh",
      args: ["-c", 'echo "out $AGENT_MARK $EXTRA"; echo err >&2; echo "secret:${SANDBOXD_SECRET:-none}"; exit 3'],
      env: [{ name: "EXTRA", value: "extra" }],
    });
    expect(terminalId).toMatch(/^term_/);
    expect(await call("terminal/wait_for_exit", { terminalId })).toEqual({ exitCode: 3, signal: null });
    const output = await call("terminal/output", { terminalId });
    expect(output.output).toContain("out 1 extra\n");
    expect(output.output).toContain("err\n");
    expect(output.output).toContain("secret:none\n");
    expect(output).toMatchObject({ truncated: false, exitStatus: { exitCode: 3, signal: null } });

    await s.waitFor("the terminal's exit record", (r) => r.kind === "terminal" && r.terminalId === terminalId && r.stream === "exit");
    const records = recordsOf(terminalId);
    expect(records.at(-1)).toMatchObject({ stream: "exit", exitCode: 3, signal: null });
    const streamed = records.filter((r) => r.stream === "output").map((r) => r.data).join("");
    expect(streamed.split("\n").sort()).toEqual(output.output.split("\n").sort());
  });

  it("runs in the asked folder, runs a shell line given without args, keeps only the last outputByteLimit bytes", async () => {
    mkdirSync(ws("sub"), { recursive: true });
    const inSub = await call("terminal/create", { command: "pwd", cwd: ws("sub") });
    await call("terminal/wait_for_exit", inSub);
    expect(realpathSync((await call("terminal/output", inSub)).output.trim())).toBe(realpathSync(ws("sub")));

    const line = await call("terminal/create", { command: "echo a && echo b" });
    await call("terminal/wait_for_exit", line);
    expect((await call("terminal/output", line)).output).toBe("a\nb\n");

    const limited = await call("terminal/create", { command: "printf", args: ["0123456789abcdef"], outputByteLimit: 10 });
    await call("terminal/wait_for_exit", limited);
    expect(await call("terminal/output", limited)).toMatchObject({ output: "6789abcdef", truncated: true });

    // Cut on a character boundary: "é" is two bytes.
    const utf8 = await call("terminal/create", { command: "printf", args: ["ééé"], outputByteLimit: 5 });
    await call("terminal/wait_for_exit", utf8);
    expect(await call("terminal/output", utf8)).toMatchObject({ output: "éé", truncated: true });

    const missing = await s.agentCalls("terminal/create", { sessionId: "s1", command: "true", cwd: ws("no-such-folder") });
    expect(missing.error?.code).toBe(-32602);
  });

  it("kills a running command's whole group, and forgets a released terminal", async () => {
    // A duration no other test uses, so counting processes machine-wide is safe while suites run in parallel.
    const { terminalId } = await call("terminal/create", { command: "sh", args: ["-c", "sleep 30.417 & echo started; wait"] });
    await s.waitFor("output", (r) => r.kind === "terminal" && r.terminalId === terminalId && r.stream === "output");
    expect((await call("terminal/output", { terminalId })).exitStatus).toBeUndefined();
    expect(await call("terminal/kill", { terminalId })).toEqual({});
    expect(await call("terminal/wait_for_exit", { terminalId })).toEqual({ exitCode: null, signal: "SIGKILL" });
    expect(execFileSync("sh", ["-c", "ps -eo args | grep -c '^sleep 30.417$' || true"]).toString().trim()).toBe("0");
    expect(await call("terminal/release", { terminalId })).toEqual({});
    const gone = await s.agentCalls("terminal/output", { sessionId: "s1", terminalId });
    expect(gone.error?.code).toBe(-32002);

    const running = await call("terminal/create", { command: "sleep", args: ["30"] });
    expect(await call("terminal/release", running)).toEqual({});
    await s.waitFor("the released terminal's exit", (r) => r.kind === "terminal" && r.terminalId === running.terminalId && r.stream === "exit");
  });
});

describe("with a wrap and a remapped workspace", () => {
  it("maps the agent's paths to the host folder and runs the agent and terminals through the wrap", async () => {
    // `env WRAPPED=1` stands in for a bubblewrap command line: a prefix that runs the rest.
    const w = await lab.start({ wrap: ["env", "WRAPPED=1"], sandboxPath: "/workspace" });
    try {
      expect((await w.request("env")).env.WRAPPED).toBe("1");
      expect((await w.agentCalls("fs/write_text_file", { sessionId: "s1", path: "/workspace/dir/new.txt", content: "mapped\n" })).result).toEqual({});
      expect(readFileSync(join(w.workspace, "dir/new.txt"), "utf8")).toBe("mapped\n");
      expect(await w.waitFor("file record", (r) => r.kind === "file")).toMatchObject({ path: "dir/new.txt", change: "created" });
      expect((await w.agentCalls("fs/read_text_file", { sessionId: "s1", path: "/workspace/dir/new.txt" })).result).toEqual({ content: "mapped\n" });
      // The host path means nothing to the agent: outside its /workspace.
      expect((await w.agentCalls("fs/read_text_file", { sessionId: "s1", path: join(w.workspace, "dir/new.txt") })).error?.code).toBe(-32602);

      const term = async (params: object) => {
        const { result } = await w.agentCalls("terminal/create", { sessionId: "s1", ...params });
        await w.agentCalls("terminal/wait_for_exit", { sessionId: "s1", ...result });
        return (await w.agentCalls("terminal/output", { sessionId: "s1", ...result })).result;
      };
      expect((await term({ command: "sh", args: ["-c", "echo $WRAPPED"] })).output).toBe("1\n");
      // A cwd other than the workspace is entered inside the wrap.
      const other = lab.folder("elsewhere");
      expect(realpathSync((await term({ command: "pwd", cwd: other })).output.trim())).toBe(realpathSync(other));
    } finally {
      await w.stop();
    }
  });
});

describe("a command's own environment", () => {
  it("reaches the command inside the wrap, never the wrap itself (which runs on the host)", async () => {
    const marker = join(lab.folder("marker"), "seen-by-wrap");
    // A wrap that records what it sees of AIRLOCK_PROBE, then runs the rest, as bubblewrap would.
    const w = await lab.start({ wrap: ["sh", "-c", `printf '%s' "$AIRLOCK_PROBE" > ${marker}; exec "$@"`, "wrap"] });
    try {
      const { result } = await w.agentCalls("terminal/create", { sessionId: "s1", command: "sh", args: ["-c", "echo $AIRLOCK_PROBE"], env: [{ name: "AIRLOCK_PROBE", value: "from-agent" }] });
      await w.agentCalls("terminal/wait_for_exit", { sessionId: "s1", ...result });
      expect((await w.agentCalls("terminal/output", { sessionId: "s1", ...result })).result.output).toBe("from-agent\n");
      expect(readFileSync(marker, "utf8")).toBe("");
      const bad = await w.agentCalls("terminal/create", { sessionId: "s1", command: "true", env: [{ name: "-u", value: "x" }] });
      expect(bad.error?.code).toBe(-32602);
    } finally {
      await w.stop();
    }
  });
});

describe("the agent's process", () => {
  it("gets exactly the configured env and the workspace as cwd", async () => {
    const { env, cwd } = await s.request("env");
    expect(env).toEqual({ PATH: process.env.PATH ?? "/usr/bin:/bin", AGENT_MARK: "1" });
    expect(realpathSync(cwd)).toBe(realpathSync(s.workspace));
  });
});
