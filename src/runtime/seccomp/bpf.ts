// A resolved filter compiled to classic BPF for seccomp(2) (pure): the
// program the helper loads (native/src/security.c). Our own compiler rather
// than libseccomp's: Debian 12's libseccomp (2.5.4) knows no syscall newer
// than Linux 5.19 by name, so a filter it built would answer EPERM to
// fchmodat2, cachestat or the futex2 calls on a newer kernel where a C
// library only falls back on ENOSYS; here the numbers come from our own
// table, and numbers past it get ENOSYS (runc patches libseccomp's output to
// the same end). It also keeps libseccomp out of the helper, whose start
// time and memory (it is every detached container's monitor) are figures.
//
// The program, per architecture in the filter (seccomp_data: nr at 0, arch
// at 4, args at 16 + 8 * i, little-endian):
//   arch == A ? -> section A             (an architecture not in the filter: kill the process)
//   section: nr == N ? -> its action      (in chunks, each followed by its return table)
//            nr with conditions -> a block of rules, tried in order
//            nr past the table ? ENOSYS   (unless the default allows)
//            default action
import { LAST_SYSCALL, SYSCALL_TABLES } from "./syscall-tables.js";
import { RET, type Condition, type FilterArch, type ResolvedFilter, type SyscallPolicy } from "./resolve.js";

/** AUDIT_ARCH_* (include/uapi/linux/audit.h); x32 shares x86_64's and sets a bit in the number. */
const AUDIT_ARCH: Readonly<Record<FilterArch, number>> = {
  x86_64: 0xc000003e,
  x32: 0xc000003e,
  x86: 0x40000003,
  aarch64: 0xc00000b7,
};
const X32_BIT = 0x40000000;

// Opcodes (include/uapi/linux/bpf_common.h).
const LD_W_ABS = 0x20;
const JMP_JA = 0x05;
const JEQ = 0x15;
const JGT = 0x25;
const JGE = 0x35;
const AND_K = 0x54;
const RET_K = 0x06;

const OFF_NR = 0;
const OFF_ARCH = 4;
const argLow = (i: number): number => 16 + 8 * i;
const argHigh = (i: number): number => 16 + 8 * i + 4;

/** An instruction whose jumps name labels; `assemble` turns them into offsets. */
interface Insn {
  readonly code: number;
  readonly k: number | string;
  readonly jt?: string;
  readonly jf?: string;
  readonly label?: string;
}

let counter = 0;
const fresh = (what: string): string => `${what}#${counter++}`;

const ld = (offset: number): Insn => ({ code: LD_W_ABS, k: offset });
const ret = (value: number): Insn => ({ code: RET_K, k: value >>> 0 });
const ja = (to: string): Insn => ({ code: JMP_JA, k: to });
/** Conditional jump; a missing target falls through. */
const jump = (code: number, k: number, jt?: string, jf?: string): Insn => ({
  code,
  k: k >>> 0,
  ...(jt ? { jt } : {}),
  ...(jf ? { jf } : {}),
});
const mark = (label: string): Insn => ({ code: -1, k: 0, label });

/** A conditional jump to anywhere: the condition falls onto an unconditional jump (32-bit offset). */
const far = (code: number, k: number, to: string): Insn[] => {
  const skip = fresh("skip");
  return [jump(code, k, undefined, skip), ja(to), mark(skip)];
};

const hi = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);
const lo = (v: bigint): number => Number(v & 0xffffffffn);

/** Falls through when the condition holds, jumps to `fail` when it does not. */
const condition = (c: Condition, fail: string): Insn[] => {
  const pass = fresh("pass");
  const [vh, vl] = [hi(c.value), lo(c.value)];
  const H = ld(argHigh(c.index));
  const L = ld(argLow(c.index));
  switch (c.op) {
    case "SCMP_CMP_EQ":
      return [H, jump(JEQ, vh, undefined, fail), L, jump(JEQ, vl, undefined, fail)];
    case "SCMP_CMP_NE":
      return [H, jump(JEQ, vh, undefined, pass), L, jump(JEQ, vl, fail), mark(pass)];
    case "SCMP_CMP_GT":
      return [
        H,
        jump(JGT, vh, pass),
        jump(JEQ, vh, undefined, fail),
        L,
        jump(JGT, vl, undefined, fail),
        mark(pass),
      ];
    case "SCMP_CMP_GE":
      return [
        H,
        jump(JGT, vh, pass),
        jump(JEQ, vh, undefined, fail),
        L,
        jump(JGE, vl, undefined, fail),
        mark(pass),
      ];
    case "SCMP_CMP_LT":
      return [
        H,
        jump(JGE, vh, undefined, pass),
        jump(JEQ, vh, undefined, fail),
        L,
        jump(JGE, vl, fail),
        mark(pass),
      ];
    case "SCMP_CMP_LE":
      return [
        H,
        jump(JGE, vh, undefined, pass),
        jump(JEQ, vh, undefined, fail),
        L,
        jump(JGT, vl, fail),
        mark(pass),
      ];
    case "SCMP_CMP_MASKED_EQ":
      return [
        H,
        { code: AND_K, k: hi(c.value) },
        jump(JEQ, hi(c.valueTwo), undefined, fail),
        L,
        { code: AND_K, k: lo(c.value) },
        jump(JEQ, lo(c.valueTwo), undefined, fail),
      ];
  }
};

/** A syscall's rules in order, then its own action or the default. */
const block = (p: SyscallPolicy, fallback: number): Insn[] => [
  ...p.rules.flatMap((r) => {
    const next = fresh("next");
    return [...r.conditions.flatMap((c) => condition(c, next)), ret(r.action), mark(next)];
  }),
  ret(p.action ?? fallback),
];

/** At most this many comparisons before their return table, so every conditional jump stays under 256. */
const CHUNK = 100;

const parseTable = (arch: FilterArch): Map<string, number> =>
  new Map(
    SYSCALL_TABLES[arch].split(",").map((pair) => {
      const [name = "", nr = ""] = pair.split(" ");
      return [name, Number(nr)];
    }),
  );

const section = (arch: FilterArch, f: ResolvedFilter, entry: string, x32?: string): Insn[] => {
  const table = parseTable(arch);
  const listed = f.syscalls
    .map((p) => ({ p, nr: table.get(p.name) }))
    .filter((e): e is { p: SyscallPolicy; nr: number } => e.nr !== undefined)
    .sort((a, b) => a.nr - b.nr);
  const out: Insn[] = [mark(entry), ld(OFF_NR)];
  if (arch === "x86_64") out.push(...far(JGE, X32_BIT, x32 ?? "kill"));
  const blocks: Insn[] = [];
  for (let i = 0; i < listed.length; i += CHUNK) {
    const tail: Insn[] = [];
    const rets = new Map<number, string>();
    const after = fresh("chunk");
    for (const { p, nr } of listed.slice(i, i + CHUNK)) {
      let target: string;
      if (p.rules.length === 0) {
        const action = p.action ?? f.defaultAction;
        target = rets.get(action) ?? fresh("ret");
        if (!rets.has(action)) {
          rets.set(action, target);
          tail.push(mark(target), ret(action));
        }
      } else {
        const start = fresh("block");
        target = fresh("to");
        tail.push(mark(target), ja(start));
        blocks.push(mark(start), ...block(p, f.defaultAction));
      }
      out.push(jump(JEQ, nr, target));
    }
    out.push(ja(after), ...tail, mark(after));
  }
  // Past the table: a syscall newer than nook, which a C library probes for
  // and must see as missing. x32's own compat range (512-547) lies above its
  // common range and is known: those take the default.
  const enosys = f.defaultAction !== RET.ALLOW && f.defaultAction !== RET.LOG;
  if (enosys) {
    const last = LAST_SYSCALL[arch];
    const above = [...table.values()].filter((n) => n > last);
    if (above.length > 0)
      out.push(...far(JGT, Math.max(...above), "enosys"), ...far(JGE, Math.min(...above), "default"));
    out.push(...far(JGT, last, "enosys"));
  }
  return [...out, ja("default"), ...blocks];
};

/** Labels resolved, each instruction 8 bytes in the host's order: struct sock_filter. */
const assemble = (insns: readonly Insn[]): Buffer => {
  const at = new Map<string, number>();
  const real: Insn[] = [];
  for (const i of insns) {
    if (i.label !== undefined) at.set(i.label, real.length);
    else real.push(i);
  }
  const buf = Buffer.alloc(real.length * 8);
  real.forEach((i, n) => {
    const offset = (label: string | undefined): number => {
      if (label === undefined) return 0;
      const to = at.get(label);
      if (to === undefined) throw new Error(`seccomp compiler: no label ${label}`);
      const d = to - (n + 1);
      if (d < 0) throw new Error(`seccomp compiler: backward jump to ${label}`);
      return d;
    };
    const k = typeof i.k === "string" ? offset(i.k) : i.k;
    const jt = offset(i.jt);
    const jf = offset(i.jf);
    if (jt > 255 || jf > 255) throw new Error(`seccomp compiler: jump too far at ${n}`);
    const le = Buffer.alloc(8);
    le.writeUInt16LE(i.code, 0);
    le.writeUInt8(jt, 2);
    le.writeUInt8(jf, 3);
    le.writeUInt32LE(k >>> 0, 4);
    le.copy(buf, n * 8);
  });
  return buf;
};

/** The largest program the kernel takes (BPF_MAXINSNS). */
export const MAX_INSNS = 4096;

/** The program, or a one-line complaint when it is too large for the kernel. */
export const compileFilter = (f: ResolvedFilter): Buffer | string => {
  const sections = f.arches.map((a) => ({ arch: a, entry: fresh(a) }));
  const x32 = sections.find((s) => s.arch === "x32");
  const dispatch: Insn[] = [ld(OFF_ARCH)];
  for (const s of sections) {
    // x32 is reached from x86_64's section, by the bit in the number.
    if (s.arch === "x32") continue;
    dispatch.push(...far(JEQ, AUDIT_ARCH[s.arch], s.entry));
  }
  const program = assemble([
    ...dispatch,
    ret(RET.KILL_PROCESS),
    ...sections.flatMap((s) => section(s.arch, f, s.entry, x32?.entry)),
    mark("kill"),
    ret(RET.KILL_PROCESS),
    mark("enosys"),
    ret(RET.ERRNO | 38),
    mark("default"),
    ret(f.defaultAction),
  ]);
  const n = program.length / 8;
  return n > MAX_INSNS
    ? `the seccomp filter would be ${n} instructions, more than the kernel's ${MAX_INSNS}`
    : program;
};
