/** The seccomp filter's program, run through a small classic-BPF interpreter (the real one is tested in sandbox-security). */
import { describe, expect, it } from "vitest";
import { CLONE_NEWUSER, ENOSYS, EPERM, PTRACE_ATTACH, PTRACE_SEIZE, PTRACE_TRACEME, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, arches, assemble, blockedCalls, seccompProgram } from "./seccomp.ts";

/** Runs `program` on a `struct seccomp_data` the way the kernel does (only the opcodes the filter uses). */
function run(program: Buffer, data: { nr: number; arch: number; args?: bigint[] }): number {
  const mem = Buffer.alloc(64);
  mem.writeUInt32LE(data.nr >>> 0, 0);
  mem.writeUInt32LE(data.arch >>> 0, 4);
  (data.args ?? []).forEach((a, i) => mem.writeBigUInt64LE(a, 16 + i * 8));
  let acc = 0;
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20: acc = mem.readUInt32LE(k); break;
      case 0x15: pc += acc === k ? jt : jf; break;
      case 0x35: pc += acc >= k ? jt : jf; break;
      case 0x45: pc += (acc & k) !== 0 ? jt : jf; break;
      case 0x06: return k;
      default: throw new Error(`unknown opcode ${code}`);
    }
  }
  throw new Error("fell off the end of the program");
}

const deny = SECCOMP_RET_ERRNO | EPERM;

describe.each(Object.keys(arches))("seccomp filter (%s)", (arch) => {
  const spec = arches[arch];
  const program = seccompProgram(arch)!;
  const call = (name: string, ...args: bigint[]) => run(program, { nr: spec.numbers[name], arch: spec.audit, args });

  it("refuses each blocked call with EPERM", () => {
    for (const name of blockedCalls) if (spec.numbers[name] !== undefined) expect(call(name), name).toBe(deny);
  });

  it("allows ordinary calls (every number not on the list)", () => {
    const blocked = new Set(blockedCalls.map((n) => spec.numbers[n]));
    for (let nr = 0; nr < 500; nr++) {
      if (blocked.has(nr) || nr === spec.numbers.ptrace || nr === spec.numbers.unshare || nr === spec.numbers.clone || nr === spec.numbers.clone3) continue;
      expect(run(program, { nr, arch: spec.audit }), `syscall ${nr}`).toBe(SECCOMP_RET_ALLOW);
    }
  });

  it("refuses ptrace attach and seize, allows TRACEME and requests on a traced child", () => {
    expect(call("ptrace", BigInt(PTRACE_ATTACH), 1n)).toBe(deny);
    expect(call("ptrace", BigInt(PTRACE_SEIZE), 1n)).toBe(deny);
    expect(call("ptrace", BigInt(PTRACE_TRACEME))).toBe(SECCOMP_RET_ALLOW);
    expect(call("ptrace", 7n /* PTRACE_CONT */, 42n)).toBe(SECCOMP_RET_ALLOW);
  });

  it("refuses a new user namespace through unshare and clone, allows other flags", () => {
    expect(call("unshare", BigInt(CLONE_NEWUSER))).toBe(deny);
    expect(call("unshare", BigInt(CLONE_NEWUSER | 0x20000 /* CLONE_NEWNS */))).toBe(deny);
    expect(call("unshare", 0x400n /* CLONE_FILES */)).toBe(SECCOMP_RET_ALLOW);
    expect(call("clone", BigInt(CLONE_NEWUSER | 17))).toBe(deny);
    expect(call("clone", 0x1200011n /* what fork() passes */)).toBe(SECCOMP_RET_ALLOW);
    expect(call("clone3")).toBe(SECCOMP_RET_ERRNO | ENOSYS);
  });

  it("ends the process on another architecture's calls", () => {
    expect(run(program, { nr: spec.numbers.ptrace, arch: 0x40000003 /* i386 */ })).toBe(SECCOMP_RET_KILL_PROCESS);
    if (spec.abiLimit) expect(run(program, { nr: spec.abiLimit + 1, arch: spec.audit })).toBe(SECCOMP_RET_KILL_PROCESS);
  });
});

describe("seccomp assembler", () => {
  it("has no filter for an unknown architecture", () => {
    expect(seccompProgram("mips")).toBeNull();
  });

  it("refuses a jump to a missing label or backwards", () => {
    expect(() => assemble([{ code: 0x15, k: 1, jt: "nowhere" }])).toThrow(/no label/);
    expect(() => assemble([{ label: "back" }, { code: 0x15, k: 1, jt: "back" }])).toThrow(/out of range/);
  });
});
