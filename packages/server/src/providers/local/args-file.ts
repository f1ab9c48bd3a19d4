/**
 * @module args-file — starts bwrap with its options read from a file (`--args FD`) and an empty environment.
 *
 * Inside the sandbox, pid 1 is bwrap's own init: a fork that keeps bwrap's command line and the environment it
 * was started with, both readable from inside (`/proc/1/cmdline`, `/proc/1/environ`). On the command line the
 * options would show the host's layout (the binds' host paths under the data folder), and the environment the
 * host side's variables (a shell's `PWD` naming the host workspace). So the options go to a file of the
 * relay's private folder, bwrap is started by `env -i`, and pid 1 shows only
 * `bwrap --args 9 --clearenv --setenv NAME VALUE… --setenv AIRLOCK_SANDBOX ID -- COMMAND`: the sandbox's own
 * variables, which the agent sees in its environment anyway. They stay on the command line, not in the file:
 * they may hold the session's secrets, which the data folder must not keep (see `forgetEnv`). bwrap closes fd 9
 * once read. The sandbox's id is what every kill of a sandbox's process checks first (a recycled pid must not
 * be killed); it names nothing of the host.
 */
import { renameSync, writeFileSync } from "node:fs";

/** The wrap prefix that runs `bwrapArgv` (bwrap's path, its options, ending in `--`) with its options in `file`. */
export function viaArgsFile(bwrapArgv: string[], file: string, sandboxId: string, runner: string[] = []): string[] {
  const [bwrap, ...rest] = bwrapArgv;
  const end = rest.indexOf("--");
  if (end < 0) throw new Error("bwrap's options must end with --");
  // After `--`: what runs first inside (setpriv when the sandbox user is mapped), before the command.
  const options = rest.slice(0, end + 1);
  const inside = rest.slice(end + 1);
  const inFile: string[] = [];
  const env: string[] = [];
  for (let i = 0; i < options.length - 1; i++) {
    if (options[i] === "--clearenv") env.push("--clearenv");
    else if (options[i] === "--setenv") env.push(...options.slice(i, (i += 2) + 1));
    else inFile.push(options[i]);
  }
  if (inFile.some((arg) => arg.includes("\0"))) throw new Error("a bwrap option holds a NUL character");
  writeFileSync(`${file}.tmp`, inFile.map((arg) => `${arg}\0`).join(""), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return ["/bin/sh", "-c", 'f=$1; shift; exec /usr/bin/env -i "$@" 9<"$f"', "airlock-bwrap", file, ...runner, bwrap, "--args", "9", ...env, "--setenv", "AIRLOCK_SANDBOX", sandboxId, "--", ...inside];
}
