/**
 * @module args-file — starts bwrap with its options read from a file (`--args FD`) and an empty environment.
 *
 * Inside the sandbox, pid 1 is bwrap's own init: a fork that keeps bwrap's command line and the environment it
 * was started with, both readable from inside (`/proc/1/cmdline`, `/proc/1/environ`). On the command line they
 * would show the host's layout (the binds' host paths under the data folder) and the host side's variables (a
 * shell's `PWD` naming the host workspace). With the options in a file of the relay's private folder and bwrap
 * started by `env -i`, pid 1 shows `bwrap --args 9 --setenv AIRLOCK_SANDBOX ID -- COMMAND` and no other
 * variable; bwrap closes fd 9 once read. The sandbox's id stays on the command line: it is what every kill
 * of a sandbox's process checks first (a recycled pid must not be killed), and it names nothing of the host.
 */
import { renameSync, writeFileSync } from "node:fs";

/** The wrap prefix that runs `bwrapArgv` (bwrap's path, its options, ending in `--`) with the options in `file`. */
export function viaArgsFile(bwrapArgv: string[], file: string, sandboxId: string): string[] {
  const [bwrap, ...options] = bwrapArgv;
  if (options.at(-1) !== "--") throw new Error("bwrap's options must end with --");
  const body = options.slice(0, -1);
  if (body.some((arg) => arg.includes("\0"))) throw new Error("a bwrap option holds a NUL character");
  writeFileSync(`${file}.tmp`, body.map((arg) => `${arg}\0`).join(""), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return ["/bin/sh", "-c", 'f=$1; shift; exec /usr/bin/env -i "$@" 9<"$f"', "airlock-bwrap", file, bwrap, "--args", "9", "--setenv", "AIRLOCK_SANDBOX", sandboxId, "--"];
}
