/**
 * The rest of the CLI against a real server: help and usage errors, errors that name their fix, uploading a
 * folder (with .gitignore and the size limit), ls, show, logs, diff, pull, rm, and the admin commands.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestServer, removeDir, startServer } from "../../server/test/harness.ts";
import { root, runCli } from "./terminal.ts";

const exec = promisify(execFile);
let server: TestServer;
let env: Record<string, string>;
let scratch: string;
beforeAll(async () => {
  server = await startServer();
  env = { AIRLOCK_URL: server.url };
  scratch = mkdtempSync(join(tmpdir(), "airlock-cli-"));
});
afterAll(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  rmSync(scratch, { recursive: true, force: true });
});

const commands = ["run", "attach", "ls", "show", "prompt", "answer", "cancel", "rm", "logs", "diff", "pull", "agents", "secrets"];

describe("usage", () => {
  it("has --help for every command, and exits 2 with a pointer to it on bad usage", async () => {
    const all = await runCli(["--help"], env);
    expect(all.code).toBe(0);
    for (const name of [...commands, "keys", "serve", "e2b"]) expect(all.stdout).toContain(`  ${name} `);
    const helps = await Promise.all(commands.map((name) => runCli([name, "--help"], env)));
    helps.forEach((h, i) => {
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`usage: airlock ${commands[i]} `);
      expect(h.stdout).toContain("-h, --help");
    });
    const cases: Array<[string[], RegExp]> = [
      [[], /usage: airlock COMMAND/],
      [["frobnicate"], /unknown command "frobnicate"/],
      [["run"], /give the task/],
      [["run", "--frob", "x"], /Unknown option '--frob'[\s\S]*airlock run --help/],
      [["run", "--mode", "yolo", "x"], /--mode must be one of ask, acceptEdits, auto/],
      [["run", "--approve", "some", "x"], /--approve must be one of all, edits, none/],
      [["run", "-w", ".", "--git", "https://example.com/r.git", "x"], /either --workspace DIR or --git URL/],
      [["show", "not-an-id"], /"not-an-id" is not a session id/],
      [["attach", "ses_0193a0000000000000000000", "--after", "ten"], /--after must be a non-negative integer, not "ten"/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, env);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stdout).toBe("");
    }
  });

  it("names the fix when the server is not there, or wants a key", async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const down = await runCli(["ls"], { AIRLOCK_URL: `http://127.0.0.1:${closed}` });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`cannot reach the Airlock server at http://127.0.0.1:${closed} (ECONNREFUSED)`);
    expect(down.stderr).toMatch(/npm start.*AIRLOCK_URL/);
    const locked = await startServer({ AIRLOCK_API_KEYS: "right-key" });
    try {
      const none = await runCli(["ls"], { AIRLOCK_URL: locked.url });
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/wants an API key.*Set AIRLOCK_API_KEY/s);
      const wrong = await runCli(["ls"], { AIRLOCK_URL: locked.url, AIRLOCK_API_KEY: "wrong" });
      expect(wrong.stderr).toMatch(/refused AIRLOCK_API_KEY/);
      const right = await runCli(["ls"], { AIRLOCK_URL: locked.url, AIRLOCK_API_KEY: "right-key" });
      expect(right.code, right.stderr).toBe(0);
    } finally {
      await locked.stop();
      removeDir(locked.dataDir);
    }
    const missing = await runCli(["show", "ses_0193a0000000000000000000"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no session ses_0193a0000000000000000000.*airlock ls/);
  });
});

describe("a session from a folder", () => {
  it("uploads the folder's text files as .gitignore says, then ls, show, logs, diff, pull and rm it", async () => {
    const dir = join(scratch, "project");
    mkdirSync(join(dir, "src", "build"), { recursive: true });
    mkdirSync(join(dir, ".git"), { recursive: true });
    writeFileSync(join(dir, ".gitignore"), "*.log\n/secret.txt\n");
    writeFileSync(join(dir, "src", ".gitignore"), "build/\n");
    writeFileSync(join(dir, "README.md"), "# project\n");
    writeFileSync(join(dir, "secret.txt"), "do not upload\n");
    writeFileSync(join(dir, "debug.log"), "noise\n");
    writeFileSync(join(dir, "src", "main.ts"), "export {};\n");
    writeFileSync(join(dir, "src", "build", "out.js"), "built\n");
    writeFileSync(join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
    writeFileSync(join(dir, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0xff, 0xfe]));

    const r = await runCli(["run", "-a", "scripted", "-w", dir, "run find . -type f | sort && echo changed >> README.md"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("not uploaded (not text): logo.png");
    expect(r.stdout).toMatch(/│ \.\/\.gitignore\n│ \.\/README\.md\n│ \.\/src\/\.gitignore\n│ \.\/src\/main\.ts\n│ exit 0/);
    const id = r.stdout.match(/session (ses_[0-9a-f]+) ·/)![1];

    const ls = await runCli(["ls", "--json"], env);
    expect(ls.stdout.trim().split("\n").map((l) => JSON.parse(l).id)).toContain(id);
    const table = await runCli(["ls", "--status", "ready"], env);
    expect(table.stdout).toMatch(new RegExp(`^ID\\s+STATUS\\s+AGENT[\\s\\S]*${id}\\s+ready\\s+scripted`));
    const show = await runCli(["show", id], env);
    expect(show.stdout).toContain(`${id}  ready`);
    expect(show.stdout).toContain("agent     scripted on local");
    const shown = JSON.parse((await runCli(["show", id, "--json"], env)).stdout);
    expect(shown).toMatchObject({ id, status: "ready", metadata: { title: expect.stringContaining("run find") } });

    const logs = await runCli(["logs", id, "--json"], env);
    const events = logs.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1).seq).toBe(shown.lastSeq);
    const human = await runCli(["logs", id, "--after", "3"], env);
    expect(human.stdout).toContain("❯ run find");

    const diff = await runCli(["diff", id], env);
    expect(diff.stdout, `${diff.stderr}\n${server.log()}`).toContain("+changed");
    const into = join(scratch, "pulled");
    const pull = await runCli(["pull", id, into], env);
    expect(pull.code, pull.stderr).toBe(0);
    expect(readFileSync(join(into, "README.md"), "utf8")).toBe("# project\nchanged\n");

    const rm = await runCli(["rm", id], env);
    expect(rm.stdout).toContain(`deleted ${id}`);
    expect((await runCli(["show", id, "--json"], env)).stdout).toMatch(/"status": "stopped"/);
    const purged = await runCli(["rm", "--purge", id], env);
    expect(purged.stdout).toContain(`purged ${id}`);
    expect((await runCli(["show", id], env)).stderr).toContain(`no session ${id}`);
  });

  it("refuses a folder over the limits, saying how to get under them, and creates nothing", async () => {
    const dir = join(scratch, "big");
    mkdirSync(dir);
    for (let i = 0; i < 1001; i++) writeFileSync(join(dir, `f${i}.txt`), "x\n");
    const before = (await server.api("GET", "/v1/sessions?limit=200")).body.sessions.length;
    const r = await runCli(["run", "-a", "scripted", "-w", dir, "hello"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/too big to upload: more than 1000 files[\s\S]*\.gitignore[\s\S]*--git URL/);
    expect((await server.api("GET", "/v1/sessions?limit=200")).body.sessions.length).toBe(before);
  });
});

describe("admin commands", () => {
  it("keeps `npm run airlock -- keys create` working, through the server's own code", async () => {
    const dataDir = join(scratch, "admin");
    const { stdout } = await exec("npm", ["run", "-s", "airlock", "--", "keys", "create", "--name", "ci", "--tenant", "acme"], {
      cwd: root,
      env: { ...process.env, AIRLOCK_DATA_DIR: dataDir },
    });
    expect(stdout).toMatch(/created key_[0-9a-f]+ \(tenant acme, name ci\)\nkey: \S+/);
    const list = await exec("npm", ["run", "-s", "airlock", "--", "keys", "list"], { cwd: root, env: { ...process.env, AIRLOCK_DATA_DIR: dataDir } });
    expect(list.stdout).toMatch(/key_[0-9a-f]+\tacme\tci/);
  });
});

describe("secrets", () => {
  it("sets a secret from an environment variable, lists it without its value, removes it; bad usage exits 2", async () => {
    const value = "cli-secret-value-0123456789";
    const set = await runCli(["secrets", "set", "CLI_TOKEN", "--from-env", "CLI_SECRET_SOURCE"], { ...env, CLI_SECRET_SOURCE: value });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe("created CLI_TOKEN\n");
    const again = await runCli(["secrets", "set", "CLI_TOKEN", "--from-env", "CLI_SECRET_SOURCE"], { ...env, CLI_SECRET_SOURCE: `${value}-2` });
    expect(again.stdout).toBe("replaced CLI_TOKEN\n");
    const ls = await runCli(["secrets", "ls"], env);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^NAME\s+UPDATED\nCLI_TOKEN\s+\d{4}-/);
    expect(ls.stdout).not.toContain(value);
    const json = await runCli(["secrets", "ls", "--json"], env);
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ name: "CLI_TOKEN" });

    const unknownSecret = await runCli(["run", "--agent", "scripted", "--secret-env", "X=NO_SUCH", "--detach", "echo hi"], env);
    expect(unknownSecret.code).toBe(2);
    expect(unknownSecret.stderr).toContain("env.X");

    for (const [args, message] of [
      [["secrets"], /give an action: set, ls or rm/],
      [["secrets", "frob"], /unknown action "frob"/],
      [["secrets", "set"], /give the secret's NAME/],
      [["secrets", "set", "X", "--from-env", "NOT_SET_ANYWHERE"], /NOT_SET_ANYWHERE is not set/],
      [["secrets", "set", "1BAD", "--from-env", "CLI_SECRET_SOURCE"], /invalid name/],
    ] as Array<[string[], RegExp]>) {
      const r = await runCli(args, { ...env, CLI_SECRET_SOURCE: value });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(message);
    }

    const rm = await runCli(["secrets", "rm", "CLI_TOKEN"], env);
    expect(rm.code).toBe(0);
    expect((await runCli(["secrets", "ls"], env)).stdout).toContain("no secrets yet");
    expect((await runCli(["secrets", "rm", "CLI_TOKEN"], env)).code).toBe(1);
  });
});
