/**
 * Drives the real `airlock` CLI as a person or a script would: in a pseudo-terminal (node-pty), its screen read
 * back through a headless xterm (what a person sees, escape codes applied), or with pipes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pty from "@lydell/node-pty";
import xterm from "@xterm/headless";

export const root = fileURLToPath(new URL("../../..", import.meta.url));
const cliArgs = ["--import", "tsx", "packages/cli/src/main.ts"];

const baseEnv = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", TERM: "xterm-256color", ...env });

/** Polls `check` until it returns something truthy, or fails after `timeoutMs` with `what` and `detail()`. */
export async function eventually<T>(check: () => T | undefined | null | false, what: string, detail: () => string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TerminalRun {
  /** Every line of the screen and its scrollback, as shown (trailing blanks trimmed). */
  screen(): string;
  /** The foreground palette colour of the first cell of the last line containing `text` (1 red, 2 green…). */
  colorOf(text: string): number | undefined;
  type(keys: string): void;
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  exited: Promise<number>;
  raw(): string;
  kill(): void;
}

/** The CLI in a pseudo-terminal of `cols` × `rows`. */
export function inTerminal(args: string[], env: Record<string, string>, size = { cols: 120, rows: 40 }): TerminalRun {
  const term = new xterm.Terminal({ ...size, scrollback: 10_000, allowProposedApi: true });
  let raw = "";
  let pending = 0;
  const proc = pty.spawn(process.execPath, [...cliArgs, ...args], { ...size, cwd: root, env: baseEnv(env), name: "xterm-256color" });
  proc.onData((data) => {
    raw += data;
    pending++;
    term.write(data, () => pending--);
  });
  const exited = new Promise<number>((resolve) => proc.onExit(({ exitCode }) => resolve(exitCode)));
  const lines = () => {
    const b = term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < b.length; i++) out.push(b.getLine(i)!.translateToString(true));
    return out;
  };
  const screen = () => lines().join("\n").replace(/\n+$/, "");
  return {
    screen,
    colorOf(text) {
      const b = term.buffer.active;
      for (let i = b.length - 1; i >= 0; i--) {
        const line = b.getLine(i)!;
        const at = line.translateToString(true).indexOf(text);
        if (at >= 0) return line.getCell(at)!.getFgColor();
      }
      return undefined;
    },
    type: (keys) => proc.write(keys),
    async waitFor(pattern, timeoutMs = 30_000) {
      const test = (s: string) => (typeof pattern === "string" ? s.includes(pattern) : pattern.test(s));
      await eventually(() => pending === 0 && test(screen()), `${pattern} on the screen`, screen, timeoutMs);
    },
    exited: exited.then(async (code) => {
      await eventually(() => pending === 0, "the screen to settle", screen, 5000);
      return code;
    }),
    raw: () => raw,
    kill: () => proc.kill(),
  };
}

export interface PipedRun {
  stdout(): string;
  stderr(): string;
  /** stdout's complete lines, parsed as JSON. */
  json(): any[];
  waitFor(check: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  exited: Promise<number>;
  proc: ChildProcess;
}

/** The CLI with pipes (no terminal): stdin closed, stdout and stderr collected. */
export function piped(args: string[], env: Record<string, string>): PipedRun {
  const proc = spawn(process.execPath, [...cliArgs, ...args], { cwd: root, env: baseEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
  proc.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = new Promise<number>((resolve) => proc.once("close", (code, signal) => resolve(code ?? (signal === "SIGINT" ? 130 : -1))));
  const run: PipedRun = {
    stdout: () => out,
    stderr: () => err,
    json: () => out.split("\n").slice(0, out.endsWith("\n") ? -1 : out.split("\n").length - 1).filter(Boolean).map((l) => JSON.parse(l)),
    waitFor: (check, what, timeoutMs = 30_000) => eventually(check, what, () => `stdout:\n${out}\nstderr:\n${err}`, timeoutMs).then(() => {}),
    exited,
    proc,
  };
  return run;
}

/** Runs the CLI to its end with pipes. */
export async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = piped(args, env);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
