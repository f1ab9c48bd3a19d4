/**
 * The seccomp filter in a real local sandbox: each refused call fails with EPERM from inside (probed with perl's
 * `syscall`, which the sandbox has through /usr), while ordinary work and a debugger-style traced child still run.
 */
import type { SandboxHandle, SandboxdConfig } from "@airlock/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arches, blockedCalls } from "./seccomp.ts";
import { type TestProvider, configOf, echoAgent, newId, runInside, spec, testProvider, wrapOptions } from "./test-support.ts";

const t: TestProvider = testProvider();
let handle: SandboxHandle;
let config: SandboxdConfig;
const numbers = arches[process.arch]?.numbers;

beforeAll(async () => {
  handle = await t.provider.create(spec(newId()));
  await handle.startSandboxd(echoAgent, "tok");
  config = configOf(handle);
});
afterAll(async () => {
  await handle?.destroy();
  t.cleanup();
});

/** Runs a perl script inside; returns stdout. */
const perl = (script: string) => {
  const r = runInside(config, ["perl", "-e", script]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
};
/** perl prints "<return> <errno name>" for syscall(nr, args...). */
const probe = (nr: number, ...args: number[]) => perl(`use Errno; $! = 0; my $r = syscall(${[nr, ...args].join(", ")}); my ($e) = grep { $!{$_} } keys %!; print "$r ", $e // "OK";`);

describe.skipIf(!numbers)("seccomp filter in a local sandbox", () => {
  it("runs bwrap with the filter", () => {
    expect(wrapOptions(config)).toContain("--seccomp");
  });

  it("refuses ptrace attach and seize of the sandbox's init (pid 1) with EPERM", () => {
    expect(probe(numbers!.ptrace, 16, 1, 0, 0)).toBe("-1 EPERM");
    expect(probe(numbers!.ptrace, 0x4206, 1, 0, 0)).toBe("-1 EPERM");
    // and of its own sibling
    expect(perl(`my $pid = fork(); if (!$pid) { sleep 5; exit 0 } $! = 0; my $r = syscall(${numbers!.ptrace}, 16, $pid, 0, 0); print "$r ", ($!{EPERM} ? "EPERM" : "$!"); kill "KILL", $pid;`)).toBe("-1 EPERM");
  });

  it("refuses each dangerous call with EPERM", () => {
    for (const name of blockedCalls) {
      if (numbers![name] === undefined) continue;
      // Arguments that would be invalid anyway: only the filter can answer EPERM before EFAULT or EINVAL.
      expect(`${name}: ${probe(numbers![name], 0, 0, 0, 0, 0)}`).toBe(`${name}: -1 EPERM`);
    }
  });

  it("refuses a new user namespace through unshare", () => {
    expect(probe(numbers!.unshare, 0x10000000)).toBe("-1 EPERM");
  });

  it("lets a process trace a child that asked for it (PTRACE_TRACEME), and continue it", () => {
    const script = `my $pid = fork(); if (!$pid) { syscall(${numbers!.ptrace}, 0, 0, 0, 0) == 0 or exit 3; kill "STOP", $$; exit 7 }
      waitpid($pid, 2); my $st = \${^CHILD_ERROR_NATIVE}; my $stopped = ($st & 0xff) == 0x7f ? "stopped" : "not stopped $st";
      my $r = syscall(${numbers!.ptrace}, 7, $pid, 0, 0); waitpid($pid, 0); print "$stopped cont=$r exit=", $? >> 8;`;
    expect(perl(script)).toBe("stopped cont=0 exit=7");
  });

  it("keeps ordinary work going: bash, git, node, npm", () => {
    const r = runInside(config, ["bash", "-c", "set -e; cd /workspace; git init -q repo; cd repo; git config user.email a@b; git config user.name a; echo hi > f; git add f; git commit -qm one; git log --oneline | wc -l; node -e 'require(\"child_process\").execSync(\"true\"); console.log(\"node ok\")'; npm --version >/dev/null && echo npm ok"]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(["1", "node ok", "npm ok"]);
  });
});
