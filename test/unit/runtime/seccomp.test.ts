// The seccomp compiler, checked by running its programs: a classic BPF
// interpreter for the instructions it emits (the kernel runs them the same
// way, see net/core/filter.c), fed seccomp_data for each case. The kernel
// itself runs them in test/integration/security.test.ts.
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { compileFilter, MAX_INSNS } from "../../../src/runtime/seccomp/bpf.js";
import { DEFAULT_PROFILE } from "../../../src/runtime/seccomp/default-profile.js";
import { decodeProfile, type Profile } from "../../../src/runtime/seccomp/profile.js";
import { filterKey, hostFor, resolveProfile, RET, type Host } from "../../../src/runtime/seccomp/resolve.js";
import { DEFAULT_CAPABILITIES } from "../../../src/runtime/capabilities.js";

const AUDIT = { x86_64: 0xc000003e, x86: 0x40000003, aarch64: 0xc00000b7, arm: 0x40000028 };
const X32 = 0x40000000;

/** Runs a program on one syscall; returns what seccomp would. */
const run = (prog: Buffer, arch: number, nr: number, args: readonly bigint[] = []): number => {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr >>> 0, 0);
  data.writeUInt32LE(arch >>> 0, 4);
  args.forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  let A = 0;
  for (let pc = 0, steps = 0; steps < 100_000; steps++) {
    const code = prog.readUInt16LE(pc * 8);
    const jt = prog.readUInt8(pc * 8 + 2);
    const jf = prog.readUInt8(pc * 8 + 3);
    const k = prog.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20:
        A = data.readUInt32LE(k);
        pc++;
        break;
      case 0x54:
        A = (A & k) >>> 0;
        pc++;
        break;
      case 0x05:
        pc += 1 + k;
        break;
      case 0x15:
        pc += 1 + (A === k ? jt : jf);
        break;
      case 0x25:
        pc += 1 + (A > k ? jt : jf);
        break;
      case 0x35:
        pc += 1 + (A >= k ? jt : jf);
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`unexpected opcode ${code.toString(16)} at ${pc}`);
    }
    if (pc * 8 >= prog.length) throw new Error("ran off the end");
  }
  throw new Error("no return");
};

const X86_64: Host = { arch: "x86_64", goArch: "amd64", kernel: [6, 18] };
const CAPS = DEFAULT_CAPABILITIES.map((c) => `CAP_${c}`);

const compile = (p: Profile, caps: readonly string[] = CAPS, host: Host = X86_64): Buffer => {
  const resolved = resolveProfile(p, caps, host);
  if (typeof resolved === "string") throw new Error(resolved);
  const prog = compileFilter(resolved);
  if (typeof prog === "string") throw new Error(prog);
  return prog;
};

const EPERM = RET.ERRNO | 1;
const ENOSYS = RET.ERRNO | 38;
// x86_64 numbers
const NR = { read: 0, mount: 165, keyctl: 250, add_key: 248, bpf: 321, perf_event_open: 298, clone: 56 };
const NR_CLONE3 = 435;
const NR_PERSONALITY = 135;
const NR_UNSHARE = 272;
const NR_CHROOT = 161;
const NR_FCHMODAT2 = 452;
const CLONE_NEWUSER = 0x10000000n;
const THREAD_FLAGS = 0x3d0f00n; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID

describe("the default profile, compiled", () => {
  const prog = compile(DEFAULT_PROFILE);
  const x86 = (nr: number, args: bigint[] = []) => run(prog, AUDIT.x86_64, nr, args);

  it("fits the kernel's limit", () => {
    expect(prog.length / 8).toBeLessThan(MAX_INSNS);
  });

  it("allows ordinary syscalls and refuses keyrings, bpf, perf events and mount with EPERM", () => {
    expect(x86(NR.read)).toBe(RET.ALLOW);
    expect(x86(NR_FCHMODAT2)).toBe(RET.ALLOW);
    for (const nr of [NR.keyctl, NR.add_key, NR.bpf, NR.perf_event_open, NR.mount, NR_UNSHARE])
      expect(x86(nr)).toBe(EPERM);
  });

  it("allows clone for threads and processes, not for namespaces; clone3 is ENOSYS so libc falls back", () => {
    expect(x86(NR.clone, [THREAD_FLAGS])).toBe(RET.ALLOW);
    expect(x86(NR.clone, [0x11n])).toBe(RET.ALLOW); // fork(): SIGCHLD
    expect(x86(NR.clone, [CLONE_NEWUSER | 0x11n])).toBe(EPERM);
    expect(x86(NR.clone, [0x20000n])).toBe(EPERM); // CLONE_NEWNS
    expect(x86(NR_CLONE3)).toBe(ENOSYS);
  });

  it("allows personality only for the usual values", () => {
    expect(x86(NR_PERSONALITY, [0n])).toBe(RET.ALLOW);
    expect(x86(NR_PERSONALITY, [0xffffffffn])).toBe(RET.ALLOW);
    expect(x86(NR_PERSONALITY, [0x0040000n])).toBe(EPERM); // ADDR_NO_RANDOMIZE
    expect(x86(NR_PERSONALITY, [0x1_00000000n])).toBe(EPERM); // the high word counts
  });

  it("answers ENOSYS past its table, EPERM inside it", () => {
    expect(x86(471)).toBe(ENOSYS);
    expect(x86(1000)).toBe(ENOSYS);
    expect(x86(0x3fffffff)).toBe(ENOSYS);
    expect(x86(183)).toBe(EPERM); // afs_syscall: known, not allowed
  });

  it("covers i386 and x32 processes with their own numbers, and kills other architectures", () => {
    expect(run(prog, AUDIT.x86, 3)).toBe(RET.ALLOW); // i386 read
    expect(run(prog, AUDIT.x86, 21)).toBe(EPERM); // i386 mount
    expect(run(prog, AUDIT.x86, 288)).toBe(EPERM); // i386 keyctl
    expect(run(prog, AUDIT.x86_64, X32 + 0)).toBe(RET.ALLOW); // x32 read
    expect(run(prog, AUDIT.x86_64, X32 + 165)).toBe(EPERM); // x32 mount
    expect(run(prog, AUDIT.x86_64, X32 + 512)).toBe(RET.ALLOW); // x32 rt_sigaction
    expect(run(prog, AUDIT.x86_64, X32 + 548)).toBe(ENOSYS);
    expect(run(prog, AUDIT.arm, 3)).toBe(RET.KILL_PROCESS);
  });

  it("opens the namespace and mount syscalls with CAP_SYS_ADMIN, chroot only with CAP_SYS_CHROOT", () => {
    const admin = compile(DEFAULT_PROFILE, [...CAPS, "CAP_SYS_ADMIN"]);
    expect(run(admin, AUDIT.x86_64, NR.mount)).toBe(RET.ALLOW);
    expect(run(admin, AUDIT.x86_64, NR_UNSHARE)).toBe(RET.ALLOW);
    expect(run(admin, AUDIT.x86_64, NR.clone, [CLONE_NEWUSER])).toBe(RET.ALLOW);
    expect(run(admin, AUDIT.x86_64, NR_CLONE3)).toBe(RET.ALLOW);
    expect(run(admin, AUDIT.x86_64, NR.keyctl)).toBe(EPERM);
    expect(x86(NR_CHROOT)).toBe(RET.ALLOW);
    expect(run(compile(DEFAULT_PROFILE, []), AUDIT.x86_64, NR_CHROOT)).toBe(EPERM);
  });

  it("compiles for arm64 hosts with the generic numbers", () => {
    const arm64 = compile(DEFAULT_PROFILE, CAPS, { arch: "aarch64", goArch: "arm64", kernel: [6, 1] });
    expect(run(arm64, AUDIT.aarch64, 63)).toBe(RET.ALLOW); // read
    expect(run(arm64, AUDIT.aarch64, 40)).toBe(EPERM); // mount
    expect(run(arm64, AUDIT.aarch64, 219)).toBe(EPERM); // keyctl
    expect(run(arm64, AUDIT.arm, 3)).toBe(RET.KILL_PROCESS); // no table for 32-bit ARM
  });

  it("keys the cache by the resolved filter: same caps same key, other caps another", () => {
    const key = (caps: string[]) => {
      const r = resolveProfile(DEFAULT_PROFILE, caps, X86_64);
      return typeof r === "string" ? r : filterKey(r);
    };
    expect(key(CAPS)).toBe(key([...CAPS]));
    expect(key(CAPS)).not.toBe(key([...CAPS, "CAP_SYS_ADMIN"]));
    expect(key(CAPS)).toBe(key(DEFAULT_CAPABILITIES.slice()));
  });
});

describe("argument comparisons", () => {
  const values = [0n, 1n, 5n, 0xffffffffn, 0x1_00000000n, 0x1_00000005n, 0xffffffff_ffffffffn];
  const ops: [string, (a: bigint, v: bigint) => boolean][] = [
    ["SCMP_CMP_EQ", (a, v) => a === v],
    ["SCMP_CMP_NE", (a, v) => a !== v],
    ["SCMP_CMP_LT", (a, v) => a < v],
    ["SCMP_CMP_LE", (a, v) => a <= v],
    ["SCMP_CMP_GT", (a, v) => a > v],
    ["SCMP_CMP_GE", (a, v) => a >= v],
  ];
  for (const [op, holds] of ops)
    it(`${op} compares all 64 bits, unsigned`, () => {
      for (const v of values) {
        const p = decodeProfile(
          JSON.stringify({
            defaultAction: "SCMP_ACT_ERRNO",
            syscalls: [
              { names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 2, value: String(v), op }] },
            ],
          }),
          "p",
        );
        if (E.isLeft(p)) throw new Error(p.left);
        const prog = compile(p.right);
        for (const a of values)
          expect([op, v, a, run(prog, AUDIT.x86_64, 0, [0n, 0n, a])]).toEqual([
            op,
            v,
            a,
            holds(a, v) ? RET.ALLOW : EPERM,
          ]);
      }
    });

  it("SCMP_CMP_MASKED_EQ masks with value and compares with valueTwo; conditions on two arguments must both hold", () => {
    const p: Profile = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        {
          names: ["write"],
          action: "SCMP_ACT_ERRNO",
          errnoRet: 13,
          args: [
            { index: 0, value: 0xff_0000000fn, valueTwo: 0x12_00000003n, op: "SCMP_CMP_MASKED_EQ" },
            { index: 1, value: 7n, op: "SCMP_CMP_EQ" },
          ],
        },
      ],
    };
    const prog = compile(p);
    expect(run(prog, AUDIT.x86_64, 1, [0x12_000000f3n, 7n])).toBe(RET.ERRNO | 13);
    expect(run(prog, AUDIT.x86_64, 1, [0x12_000000f3n, 8n])).toBe(RET.ALLOW);
    expect(run(prog, AUDIT.x86_64, 1, [0x13_000000f3n, 7n])).toBe(RET.ALLOW);
    // The default allows: nothing is ENOSYS.
    expect(run(prog, AUDIT.x86_64, 1000)).toBe(RET.ALLOW);
  });

  it("takes several conditions on one argument as alternatives, as runc does", () => {
    const p: Profile = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        {
          names: ["read"],
          action: "SCMP_ACT_ALLOW",
          args: [
            { index: 0, value: 1n, op: "SCMP_CMP_EQ" },
            { index: 0, value: 2n, op: "SCMP_CMP_EQ" },
          ],
        },
      ],
    };
    const prog = compile(p);
    expect([1n, 2n, 3n].map((a) => run(prog, AUDIT.x86_64, 0, [a]))).toEqual([RET.ALLOW, RET.ALLOW, EPERM]);
  });

  it("keeps every jump in range with many conditional syscalls", () => {
    const names = "read write open close stat fstat lstat poll lseek mmap mprotect munmap brk ioctl".split(
      " ",
    );
    const p: Profile = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [...Array(300).keys()].map((i) => ({
        names: [names[i % names.length] ?? "read"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 1, value: BigInt(i), op: "SCMP_CMP_EQ" }],
      })),
    };
    const prog = compile(p);
    expect(run(prog, AUDIT.x86_64, 1, [0n, 1n])).toBe(RET.ALLOW); // write, i = 1
    expect(run(prog, AUDIT.x86_64, 1, [0n, 2n])).toBe(EPERM);
    expect(run(prog, AUDIT.x86_64, 8, [0n, 288n])).toBe(RET.ALLOW); // lseek, i = 288
    expect(run(prog, AUDIT.x86_64, 8, [0n, 294n])).toBe(EPERM); // i = 294 is read
  });
});

describe("profiles from files", () => {
  const decode = (o: unknown) => decodeProfile(JSON.stringify(o), "/p.json");

  it("names the bad field in one line", () => {
    expect(decode({ defaultAction: "ALLOW" })).toEqual(
      E.left('/p.json: defaultAction: expected SCMP_ACT_*, got "ALLOW"'),
    );
    expect(
      decode({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_DENY" }] }),
    ).toEqual(E.left('/p.json: syscalls[0].action: expected SCMP_ACT_*, got "SCMP_ACT_DENY"'));
    expect(
      decode({
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [
          { names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 7, value: 1, op: "SCMP_CMP_EQ" }] },
        ],
      }),
    ).toEqual(E.left("/p.json: syscalls[0].args[0].index: expected argument index 0 to 5, got 7"));
    expect(decode({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ action: "SCMP_ACT_ALLOW" }] })).toEqual(
      E.left("/p.json: syscalls[0]: names the syscalls it is for"),
    );
    expect(decode({ defaultAction: "SCMP_ACT_NOTIFY" })).toEqual(
      E.left("/p.json: defaultAction: SCMP_ACT_NOTIFY needs a seccomp agent"),
    );
    expect(E.isLeft(decodeProfile("{", "/p.json"))).toBe(true);
  });

  it("takes the older format: one name per rule, a flat list of architectures", () => {
    const p = decode({
      defaultAction: "SCMP_ACT_ALLOW",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      syscalls: [{ name: "mkdir", action: "SCMP_ACT_ERRNO" }],
    });
    if (E.isLeft(p)) throw new Error(p.left);
    const resolved = resolveProfile(p.right, CAPS, X86_64);
    expect(resolved).toMatchObject({ arches: ["x86_64", "x86"] });
    const prog = compile(p.right);
    expect(run(prog, AUDIT.x86_64, 83)).toBe(EPERM); // mkdir
    expect(run(prog, AUDIT.x86_64, X32 + 83)).toBe(RET.KILL_PROCESS); // no x32 in this filter
  });

  it("lets a deny stand over an allow for one syscall (Podman's profiles have both), and refuses two denials", () => {
    const p: Profile = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        { names: ["read", "mkdir", "setns"], action: "SCMP_ACT_ALLOW" },
        { names: ["mkdir"], action: "SCMP_ACT_ERRNO" },
        { names: ["read"], action: "SCMP_ACT_ALLOW" },
        { names: ["setns"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
      ],
    };
    const r = resolveProfile(p, CAPS, X86_64);
    if (typeof r === "string") throw new Error(r);
    const action = (name: string) => r.syscalls.find((s) => s.name === name)?.action;
    expect(action("read")).toBe(RET.ALLOW);
    expect(action("mkdir")).not.toBe(RET.ALLOW);
    expect(action("setns")).not.toBe(RET.ALLOW);
    const twice: Profile = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        { names: ["mkdir"], action: "SCMP_ACT_ERRNO" },
        { names: ["mkdir"], action: "SCMP_ACT_KILL" },
      ],
    };
    expect(resolveProfile(twice, CAPS, X86_64)).toBe(
      "syscalls[1]: mkdir already has another action, from syscalls[0]",
    );
  });

  it("knows this host", () => {
    expect(hostFor("x64", "6.18.44-fc-v657")).toEqual({ arch: "x86_64", goArch: "amd64", kernel: [6, 18] });
    expect(hostFor("arm64", "5.10.0")).toMatchObject({ arch: "aarch64", kernel: [5, 10] });
    expect(hostFor("riscv64", "6.1.0")).toBeUndefined();
  });
});
