/**
 * @module setup-commands — a session's setup commands, run in order before its agent starts, once per sandbox.
 *
 * Each command's output is journaled as `terminal` records (the control plane shows them as `terminal.output`
 * events) after a `setup` record that names the step. The first command that fails ends the setup with its exit
 * code and the tail of its output. Once all succeeded, a marker file in the relay's state folder says so: a
 * later start of the relay in the same sandbox (a resume after an idle stop, a crash) does not run them again,
 * while a new sandbox has no marker and runs them.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { type InsideOptions, spawnInside, stopGroup } from "./inside.ts";
import type { Journal } from "./journal.ts";

/** Characters per `terminal` record. */
const recordChars = 32 * 1024;
/** Output of one command journaled at most; the rest is counted, and its tail still kept for a failure. */
const maxJournaledChars = 8 * 1024 * 1024;
const tailChars = 4096;
const defaultTimeoutMs = 30 * 60 * 1000;

export type SetupOutcome = { ok: true } | { ok: false; message: string; exitCode: number | null; detail: string };

export interface SetupOptions extends InsideOptions {
  commands: string[];
  stateDir: string;
  journal: Journal;
  signal: AbortSignal;
  timeoutMs?: number;
}

export const setupMarker = (stateDir: string) => join(stateDir, "setup-done.json");

export async function runSetupCommands(options: SetupOptions): Promise<SetupOutcome> {
  const { commands, journal } = options;
  const marker = setupMarker(options.stateDir);
  if (commands.length === 0) return { ok: true };
  if (existsSync(marker)) {
    journal.append("setup_done", ',"ran":false');
    return { ok: true };
  }
  for (const [i, command] of commands.entries()) {
    if (options.signal.aborted) return { ok: false, message: "setup was stopped", exitCode: null, detail: "" };
    const terminalId = `setup-${i + 1}`;
    journal.append("setup", ',"step":' + (i + 1) + ',"total":' + commands.length + ',"command":' + JSON.stringify(command) + ',"terminalId":"' + terminalId + '"');
    const result = await runOne(options, command, terminalId);
    journal.append("terminal", ',"terminalId":"' + terminalId + '","stream":"exit","exitCode":' + JSON.stringify(result.exitCode) + ',"signal":' + JSON.stringify(result.signal));
    if (result.exitCode !== 0) {
      const how = result.timedOut
        ? `timed out after ${Math.round((options.timeoutMs ?? defaultTimeoutMs) / 1000)} s`
        : result.signal
          ? `was killed by ${result.signal}`
          : `failed with exit code ${result.exitCode}`;
      return { ok: false, message: `setup command ${i + 1}/${commands.length} ${how}: ${command}`, exitCode: result.exitCode, detail: result.tail };
    }
  }
  writeFileSync(marker, JSON.stringify({ at: Date.now(), commands: commands.length }));
  journal.append("setup_done", ',"ran":true');
  return { ok: true };
}

async function runOne(
  options: SetupOptions,
  command: string,
  terminalId: string,
): Promise<{ exitCode: number | null; signal: string | null; tail: string; timedOut: boolean }> {
  const { journal } = options;
  let tail = "";
  let journaled = 0;
  let pending = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    let text = pending;
    pending = "";
    if (journaled >= maxJournaledChars) return;
    journaled += text.length;
    if (journaled >= maxJournaledChars) text += "\n[further output of this setup command is not journaled]\n";
    for (let i = 0; i < text.length; i += recordChars) journal.append("terminal", ',"terminalId":"' + terminalId + '","stream":"output","data":' + JSON.stringify(text.slice(i, i + recordChars)));
  };
  const take = (text: string) => {
    if (!text) return;
    tail = (tail + text).slice(-tailChars);
    pending += text;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  let proc;
  try {
    proc = spawnInside(options, command);
  } catch (err) {
    take(`could not start the command: ${(err as Error).message}\n`);
    flush();
    return { exitCode: 127, signal: null, tail, timedOut: false };
  }
  const decoders = [new StringDecoder("utf8"), new StringDecoder("utf8")];
  proc.stdout!.on("data", (chunk: Buffer) => take(decoders[0].write(chunk)));
  proc.stderr!.on("data", (chunk: Buffer) => take(decoders[1].write(chunk)));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopGroup(proc);
  }, options.timeoutMs ?? defaultTimeoutMs);
  const onAbort = () => void stopGroup(proc);
  options.signal.addEventListener("abort", onAbort);
  const status = await new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => {
    proc.once("error", (err) => {
      take(`could not start the command: ${err.message}\n`);
      resolve({ exitCode: 127, signal: null });
    });
    // "close": all output read. A background child that keeps the pipes open is not waited for past its exit.
    let exitTimer: NodeJS.Timeout | null = null;
    proc.once("exit", (code, signal) => {
      exitTimer = setTimeout(() => resolve({ exitCode: code, signal }), 500);
    });
    proc.once("close", (code, signal) => {
      if (exitTimer) clearTimeout(exitTimer);
      resolve({ exitCode: code, signal });
    });
  });
  clearTimeout(timer);
  proc.stdout!.destroy();
  proc.stderr!.destroy();
  options.signal.removeEventListener("abort", onAbort);
  take(decoders[0].end() + decoders[1].end());
  flush();
  return { ...status, exitCode: timedOut && status.exitCode === 0 ? null : status.exitCode, tail, timedOut };
}
