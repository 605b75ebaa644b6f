// A profile, resolved for one container (pure): the rules whose includes and
// excludes match its capabilities, this host's architecture and kernel, as
// Docker resolves them (moby profiles/seccomp), flattened to what the filter
// does per syscall name. Its JSON is the compile cache's key.
import type { Arg, Filter, Operator, Profile } from "./profile.js";

/** The architectures nook has syscall tables for. */
export type FilterArch = "x86_64" | "x86" | "x32" | "aarch64";

/** seccomp(2) return values (include/uapi/linux/seccomp.h). */
export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export interface Condition {
  readonly index: number;
  readonly op: Operator;
  /** For SCMP_CMP_MASKED_EQ, the mask; else the value compared with. */
  readonly value: bigint;
  /** For SCMP_CMP_MASKED_EQ, what the masked argument must equal. */
  readonly valueTwo: bigint;
}

/** A rule for one syscall: its action when all conditions hold. */
export interface ConditionalRule {
  readonly action: number;
  readonly conditions: readonly Condition[];
}

export interface SyscallPolicy {
  readonly name: string;
  /** Tried in order; the first whose conditions all hold decides. */
  readonly rules: readonly ConditionalRule[];
  /** When none holds (or there are none): this, else the default action. */
  readonly action?: number;
}

export interface ResolvedFilter {
  /** The host's architecture first. */
  readonly arches: readonly FilterArch[];
  readonly defaultAction: number;
  readonly syscalls: readonly SyscallPolicy[];
  /** seccomp(2)'s flags: SECCOMP_FILTER_FLAG_TSYNC 1, LOG 2, SPEC_ALLOW 4. */
  readonly flags: number;
}

export interface Host {
  /** nook's name of the host's architecture. */
  readonly arch: FilterArch;
  /** Go's name, which profiles' includes.arches use: amd64, arm64. */
  readonly goArch: string;
  /** [major, minor] of the running kernel. */
  readonly kernel: readonly [number, number];
}

/** The host as Node sees it; undefined where nook has no syscall table for its architecture. */
export const hostFor = (nodeArch: string, release: string): Host | undefined => {
  const [major = 0, minor = 0] = release.split(/[.-]/).map(Number);
  const kernel = [major, minor] as const;
  if (nodeArch === "x64") return { arch: "x86_64", goArch: "amd64", kernel };
  if (nodeArch === "arm64") return { arch: "aarch64", goArch: "arm64", kernel };
  return undefined;
};

const ARCH_NAMES: Readonly<Record<string, FilterArch>> = {
  SCMP_ARCH_X86_64: "x86_64",
  SCMP_ARCH_X86: "x86",
  SCMP_ARCH_X32: "x32",
  SCMP_ARCH_AARCH64: "aarch64",
};

/** The ones a process on this host can use: a 64-bit kernel's compat modes. */
const FAMILY: Readonly<Record<FilterArch, readonly FilterArch[]>> = {
  x86_64: ["x86_64", "x86", "x32"],
  x86: ["x86"],
  x32: ["x32"],
  aarch64: ["aarch64"],
};

const archesOf = (p: Profile, host: Host): FilterArch[] => {
  const mapped = p.archMap?.find((m) => ARCH_NAMES[m.architecture] === host.arch);
  const listed = mapped ? [mapped.architecture, ...(mapped.subArchitectures ?? [])] : (p.architectures ?? []);
  const ours = listed.map((a) => ARCH_NAMES[a]).filter((a): a is FilterArch => a !== undefined);
  return [host.arch, ...FAMILY[host.arch].filter((a) => a !== host.arch && ours.includes(a))];
};

const atLeast = (kernel: readonly [number, number], min: string): boolean => {
  const [major = 0, minor = 0] = min.split(".").map(Number);
  return kernel[0] > major || (kernel[0] === major && kernel[1] >= minor);
};

/** Docker's rule: every capability includes names must be there; any excludes names must not. */
const applies = (
  inc: Filter | undefined,
  exc: Filter | undefined,
  caps: Set<string>,
  host: Host,
): boolean => {
  if (inc?.caps && !inc.caps.every((c) => caps.has(c))) return false;
  if (inc?.arches && inc.arches.length > 0 && !inc.arches.includes(host.goArch)) return false;
  if (inc?.minKernel && !atLeast(host.kernel, inc.minKernel)) return false;
  if (exc?.caps && exc.caps.some((c) => caps.has(c))) return false;
  if (exc?.arches && exc.arches.includes(host.goArch)) return false;
  if (exc?.minKernel && atLeast(host.kernel, exc.minKernel)) return false;
  return true;
};

const EPERM = 1;

const retOf = (action: Profile["defaultAction"], errno: number | undefined): number => {
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return RET.ALLOW;
    case "SCMP_ACT_ERRNO":
      return RET.ERRNO | (errno ?? EPERM);
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return RET.KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return RET.KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return RET.TRAP;
    case "SCMP_ACT_TRACE":
      return RET.TRACE | (errno ?? EPERM);
    case "SCMP_ACT_LOG":
      return RET.LOG;
    case "SCMP_ACT_NOTIFY":
      // decodeProfile refuses it; unreachable for a checked profile
      return RET.KILL_PROCESS;
  }
};

const conditionOf = (a: Arg): Condition => ({
  index: a.index,
  op: a.op,
  value: a.value,
  valueTwo: a.valueTwo ?? 0n,
});

/**
 * runc's reading of a rule's arguments, which Docker's profiles rely on:
 * conditions on different arguments must all hold; several on the same
 * argument are alternatives, each a rule of its own.
 */
const rulesOf = (action: number, args: readonly Arg[]): ConditionalRule[] => {
  const count = new Map<number, number>();
  for (const a of args) count.set(a.index, (count.get(a.index) ?? 0) + 1);
  const alone = args.filter((a) => (count.get(a.index) ?? 0) > 1);
  const together = args.filter((a) => (count.get(a.index) ?? 0) === 1);
  return [
    ...alone.map((a) => ({ action, conditions: [conditionOf(a)] })),
    ...(together.length > 0 ? [{ action, conditions: together.map(conditionOf) }] : []),
  ];
};

const FLAG_BITS = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
} as const;

/**
 * The filter for a container with these capabilities (names as the kernel's
 * headers spell them, CAP_SYS_ADMIN). Of an unconditional allow and deny for
 * one syscall the deny stands; two different denials are refused, naming both.
 */
export const resolveProfile = (
  p: Profile,
  capabilities: readonly string[],
  host: Host,
): ResolvedFilter | string => {
  const caps = new Set(capabilities.map((c) => (c.startsWith("CAP_") ? c : `CAP_${c}`)));
  const byName = new Map<string, { rules: ConditionalRule[]; action?: number; from?: number }>();
  for (const [i, s] of (p.syscalls ?? []).entries()) {
    if (!applies(s.includes, s.excludes, caps, host)) continue;
    const action = retOf(s.action, s.errnoRet);
    for (const name of [...(s.names ?? []), ...(s.name !== undefined ? [s.name] : [])]) {
      const entry = byName.get(name) ?? { rules: [] };
      byName.set(name, entry);
      if (s.args && s.args.length > 0) entry.rules.push(...rulesOf(action, s.args));
      else if (entry.action !== undefined && entry.action !== action) {
        // Engines resolve Docker's includes/excludes themselves and may pass both
        // an allow and a deny for one syscall (Podman's profile allows setns in
        // its main list and denies it without CAP_SYS_ADMIN): the deny stands.
        // Two different denials are a contradiction, refused by name.
        if (entry.action !== RET.ALLOW && action !== RET.ALLOW)
          return `syscalls[${i}]: ${name} already has another action, from syscalls[${entry.from}]`;
        if (entry.action === RET.ALLOW) {
          entry.action = action;
          entry.from = i;
        }
      } else if (entry.action === undefined) {
        entry.action = action;
        entry.from = i;
      }
    }
  }
  return {
    arches: archesOf(p, host),
    defaultAction: retOf(p.defaultAction, p.defaultErrnoRet),
    syscalls: [...byName].map(([name, e]) => ({
      name,
      rules: e.rules,
      ...(e.action !== undefined ? { action: e.action } : {}),
    })),
    flags: (p.flags ?? []).reduce((f, name) => f | FLAG_BITS[name], 0),
  };
};

/** The resolved filter as text, the same for the same filter: what the compile cache is keyed by. */
export const filterKey = (f: ResolvedFilter): string =>
  JSON.stringify(f, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
