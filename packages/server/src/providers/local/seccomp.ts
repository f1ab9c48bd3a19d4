/**
 * @module seccomp — the system-call filter every local sandbox runs under, as the classic-BPF program that
 * bubblewrap loads with `--seccomp FD` (after it has set up the mounts, just before it runs the command).
 *
 * It refuses with EPERM what an unprivileged agent never needs and what would help it attack the host or the
 * sandbox's own init: attaching to a process (`PTRACE_ATTACH`/`PTRACE_SEIZE`; `PTRACE_TRACEME` and the requests
 * on a child traced that way stay allowed, so a debugger that starts its program works), the kernel keyring,
 * eBPF, userfaultfd, perf events, kexec, modules, every mount call, swap, reboot, accounting, namespaces
 * (`setns`, a new user namespace through `unshare` or `clone`; `clone3` answers ENOSYS so libc uses `clone`), file handles (`open_by_handle_at`), writing
 * into another process's memory, and the clock. A system call of another ABI (32-bit x86 on x86_64, x32) ends
 * the process: its numbers differ, so the filter could not judge it.
 *
 * Pure: `seccompProgram(arch)` returns the bytes, unit-tested with a small BPF interpreter.
 */

/** `struct seccomp_data`: nr (u32), arch (u32), instruction_pointer (u64), args[6] (u64 each, little endian). */
const offsetNr = 0;
const offsetArch = 4;
const offsetArg0Low = 16;

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const EPERM = 1;
export const ENOSYS = 38;

export const PTRACE_TRACEME = 0;
export const PTRACE_ATTACH = 16;
export const PTRACE_SEIZE = 0x4206;
export const CLONE_NEWUSER = 0x10000000;

/** What the filter knows about one architecture: its audit id and its numbers for the calls it refuses. */
export interface SeccompArch {
  audit: number;
  /** Numbers at or above this belong to another ABI sharing the audit id (x32 on x86_64). */
  abiLimit?: number;
  numbers: Record<string, number>;
}

/** Calls refused outright. */
export const blockedCalls = [
  "keyctl", "add_key", "request_key", "bpf", "userfaultfd", "perf_event_open", "kexec_load", "kexec_file_load",
  "mount", "umount2", "pivot_root", "move_mount", "open_tree", "open_tree_attr", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
  "init_module", "finit_module", "delete_module", "swapon", "swapoff", "reboot", "acct", "setns",
  "open_by_handle_at", "process_vm_writev", "quotactl", "settimeofday", "clock_settime", "clock_adjtime",
  "iopl", "ioperm", "uselib",
] as const;

/** From the kernel's `asm/unistd_64.h` (x86_64) and `asm-generic/unistd.h` (aarch64); absent: not on that arch. */
export const arches: Record<string, SeccompArch> = {
  x64: {
    audit: 0xc000003e,
    abiLimit: 0x40000000,
    numbers: {
      ptrace: 101, unshare: 272, clone: 56, clone3: 435,
      keyctl: 250, add_key: 248, request_key: 249, bpf: 321, userfaultfd: 323, perf_event_open: 298, kexec_load: 246, kexec_file_load: 320,
      mount: 165, umount2: 166, pivot_root: 155, move_mount: 429, open_tree: 428, open_tree_attr: 467, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442,
      init_module: 175, finit_module: 313, delete_module: 176, swapon: 167, swapoff: 168, reboot: 169, acct: 163, setns: 308,
      open_by_handle_at: 304, process_vm_writev: 311, quotactl: 179, settimeofday: 164, clock_settime: 227, clock_adjtime: 305,
      iopl: 172, ioperm: 173, uselib: 134,
    },
  },
  arm64: {
    audit: 0xc00000b7,
    numbers: {
      ptrace: 117, unshare: 97, clone: 220, clone3: 435,
      keyctl: 219, add_key: 217, request_key: 218, bpf: 280, userfaultfd: 282, perf_event_open: 241, kexec_load: 104, kexec_file_load: 294,
      mount: 40, umount2: 39, pivot_root: 41, move_mount: 429, open_tree: 428, open_tree_attr: 467, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442,
      init_module: 105, finit_module: 273, delete_module: 106, swapon: 224, swapoff: 225, reboot: 142, acct: 89, setns: 268,
      open_by_handle_at: 265, process_vm_writev: 271, quotactl: 60, settimeofday: 170, clock_settime: 112, clock_adjtime: 266,
    },
  },
};

/** One instruction, its jumps given as labels until `assemble` resolves them. */
type Insn = { code: number; k: number; jt?: string; jf?: string } | { label: string };

/** Resolves labels into forward offsets and encodes `struct sock_filter` (u16 code, u8 jt, u8 jf, u32 k). */
export function assemble(program: Insn[]): Buffer {
  const at = new Map<string, number>();
  const code: Array<{ code: number; k: number; jt?: string; jf?: string }> = [];
  for (const insn of program) {
    if ("label" in insn) at.set(insn.label, code.length);
    else code.push(insn);
  }
  const out = Buffer.alloc(code.length * 8);
  code.forEach((insn, i) => {
    const offset = (label: string | undefined) => {
      if (label === undefined) return 0;
      const target = at.get(label);
      if (target === undefined) throw new Error(`seccomp: no label ${label}`);
      const delta = target - i - 1;
      if (delta < 0 || delta > 255) throw new Error(`seccomp: jump to ${label} out of range (${delta})`);
      return delta;
    };
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(offset(insn.jt), i * 8 + 2);
    out.writeUInt8(offset(insn.jf), i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}

/** The filter for `arch` (a `process.arch` value); null on an architecture it does not know. */
export function seccompProgram(arch: string = process.arch): Buffer | null {
  const spec = arches[arch];
  if (!spec) return null;
  const n = spec.numbers;
  const p: Insn[] = [
    { code: LD_W_ABS, k: offsetArch },
    { code: JEQ_K, k: spec.audit, jf: "kill" },
    { code: LD_W_ABS, k: offsetNr },
  ];
  if (spec.abiLimit) p.push({ code: JGE_K, k: spec.abiLimit, jt: "kill" });
  for (const name of blockedCalls) if (n[name] !== undefined) p.push({ code: JEQ_K, k: n[name], jt: "deny" });
  p.push({ code: JEQ_K, k: n.ptrace, jt: "ptrace" });
  p.push({ code: JEQ_K, k: n.unshare, jt: "flags" });
  p.push({ code: JEQ_K, k: n.clone, jt: "flags" });
  // clone3 passes its flags in memory, out of a filter's reach: ENOSYS makes libc fall back to clone.
  p.push({ code: JEQ_K, k: n.clone3, jt: "nosys" });
  p.push({ code: RET_K, k: SECCOMP_RET_ALLOW });
  // ptrace(request, ...): the request is a long; only its low word can equal these (a high word makes it another).
  p.push({ label: "ptrace" }, { code: LD_W_ABS, k: offsetArg0Low });
  p.push({ code: JEQ_K, k: PTRACE_ATTACH, jt: "deny" }, { code: JEQ_K, k: PTRACE_SEIZE, jt: "deny" }, { code: RET_K, k: SECCOMP_RET_ALLOW });
  // unshare(flags) and clone(flags, ...): no new user namespace (bwrap's --disable-userns also stops it where available).
  p.push({ label: "flags" }, { code: LD_W_ABS, k: offsetArg0Low });
  p.push({ code: JSET_K, k: CLONE_NEWUSER, jt: "deny" }, { code: RET_K, k: SECCOMP_RET_ALLOW });
  p.push({ label: "deny" }, { code: RET_K, k: SECCOMP_RET_ERRNO | EPERM });
  p.push({ label: "nosys" }, { code: RET_K, k: SECCOMP_RET_ERRNO | ENOSYS });
  p.push({ label: "kill" }, { code: RET_K, k: SECCOMP_RET_KILL_PROCESS });
  return assemble(p);
}

/** The fd the filter reaches bwrap on (opened by `seccompPrefix`; 3 and 4 are the network's pipes, and dash redirects only 0-9). */
export const seccompFd = 5;

/** The argv prefix that opens the filter's file on `seccompFd` and runs the rest (bwrap) with it. */
export function seccompPrefix(file: string): string[] {
  return ["/bin/sh", "-c", `f=$1; shift; exec "$@" ${seccompFd}<"$f"`, "airlock-seccomp", file];
}
