// A seccomp profile in Docker's JSON format (what `--security-opt
// seccomp=FILE` takes, and Podman's seccomp.json): the codec every profile
// file goes through, with errors that name the bad field
// ("syscalls[3].action: expected SCMP_ACT_*, got "ALLOW"").
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { listOf } from "../../lib/decode.js";
import { formatDecodeFailure } from "../../image/manifest.js";

export const ACTIONS = [
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_LOG",
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_NOTIFY",
] as const;
export type Action = (typeof ACTIONS)[number];

const oneOf = <K extends string>(keys: readonly K[], name: string): t.Type<K, K, unknown> =>
  t.keyof(Object.fromEntries(keys.map((k) => [k, null])) as Record<K, null>, name);

const ActionCodec = oneOf(ACTIONS, "SCMP_ACT_*");

export const OPERATORS = [
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
] as const;
export type Operator = (typeof OPERATORS)[number];

/**
 * A 64-bit argument value: a JSON number up to 2^53 (beyond that JSON.parse
 * has already rounded it), or the number in a string, as nook also takes.
 */
const Uint64 = new t.Type<bigint, string, unknown>(
  "unsigned 64-bit integer",
  (u): u is bigint => typeof u === "bigint",
  (u, c) => {
    if (typeof u === "number" && Number.isSafeInteger(u) && u >= 0) return t.success(BigInt(u));
    if (typeof u === "string" && /^(\d+|0x[0-9a-fA-F]+)$/.test(u)) {
      const v = BigInt(u);
      if (v < 1n << 64n) return t.success(v);
    }
    return t.failure(u, c);
  },
  (v) => v.toString(),
);

const Index = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0 && n <= 5, "argument index 0 to 5");
const Errno = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0 && n <= 4095, "errno 0 to 4095");

const Arg = t.intersection([
  t.type({ index: Index, value: Uint64, op: oneOf(OPERATORS, "SCMP_CMP_*") }),
  t.partial({ valueTwo: Uint64 }),
]);
export type Arg = t.TypeOf<typeof Arg>;

/** libseccomp's architecture names (runtime-spec defs-linux.json's SeccompArch). */
export const ARCHES = [
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K",
  "SCMP_ARCH_SH",
] as const;
const Arch = oneOf(ARCHES, "SCMP_ARCH_*");

/** Where a rule applies: capabilities the container has, architectures (Go's names: amd64, arm64...), a kernel. */
const Filter = t.partial({
  caps: listOf(t.string, "capabilities"),
  arches: listOf(t.string, "architectures"),
  minKernel: t.refinement(t.string, (s) => /^\d+\.\d+/.test(s), "kernel version MAJOR.MINOR"),
});
export type Filter = t.TypeOf<typeof Filter>;

const Syscall = t.intersection([
  t.type({ action: ActionCodec }),
  t.partial({
    names: listOf(t.string, "syscall names"),
    /** The older format's one name per rule. */
    name: t.string,
    args: listOf(Arg, "arguments"),
    errnoRet: Errno,
    comment: t.string,
    includes: Filter,
    excludes: Filter,
  }),
]);
export type Syscall = t.TypeOf<typeof Syscall>;

export const FLAGS = [
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
] as const;

export const Profile = t.intersection([
  t.type({ defaultAction: ActionCodec }),
  t.partial({
    defaultErrnoRet: Errno,
    architectures: listOf(Arch, "architectures"),
    archMap: listOf(
      t.intersection([
        t.type({ architecture: Arch }),
        t.partial({ subArchitectures: listOf(Arch, "architectures") }),
      ]),
      "architecture map",
    ),
    syscalls: listOf(Syscall, "syscall rules"),
    flags: listOf(oneOf(FLAGS, "SECCOMP_FILTER_FLAG_*"), "flags"),
    listenerPath: t.string,
    listenerMetadata: t.string,
  }),
]);
export type Profile = t.TypeOf<typeof Profile>;

/** What the codec cannot say: rules without a name, a notifier nook does not have. */
const check = (p: Profile): string | undefined => {
  if (p.defaultAction === "SCMP_ACT_NOTIFY") return "defaultAction: SCMP_ACT_NOTIFY needs a seccomp agent";
  if (p.listenerPath) return "listenerPath: nook has no seccomp agent to pass notifications to";
  for (const [i, s] of (p.syscalls ?? []).entries()) {
    if ((s.names ?? []).length === 0 && s.name === undefined)
      return `syscalls[${i}]: names the syscalls it is for`;
    if (s.action === "SCMP_ACT_NOTIFY") return `syscalls[${i}].action: SCMP_ACT_NOTIFY needs a seccomp agent`;
  }
  return undefined;
};

/** A profile file's text, decoded; the error is one line that names the file and the field. */
export const decodeProfile = (text: string, what: string): E.Either<string, Profile> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left(`${what}: not JSON (${(e as Error).message})`);
  }
  const decoded = Profile.decode(json);
  if (E.isLeft(decoded)) return E.left(formatDecodeFailure(what, decoded.left));
  const bad = check(decoded.right);
  return bad === undefined ? E.right(decoded.right) : E.left(`${what}: ${bad}`);
};
