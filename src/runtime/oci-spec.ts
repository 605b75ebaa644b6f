// An OCI bundle's config.json (opencontainers/runtime-spec config.md,
// config-linux.md and schema/*.json, versions 1.0 to 1.2), decoded once into
// an immutable value. What nook makes of each field is oci-support.ts's
// business; this file only says what a well-formed config looks like.
//
// Forward compatible: fields these codecs do not name pass through the
// decode untouched (t.type and t.partial keep them), since the spec's
// Extensibility section says a runtime MUST NOT fail on an unknown property;
// oci-support.ts lists them. Optional fields may be null, which Go's
// encoding/json (runc, containerd, Podman) reads as absent, so nook accepts
// what runc accepts; required fields may not.
//
// Enumerations the spec may grow (namespace types, seccomp actions, rlimit
// names...) decode as strings: a value nook does not know is a field it
// cannot honour, reported by name, not a malformed document.
import * as path from "node:path";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { formatDecodeFailure } from "../image/manifest.js";

/** The name every decoding error starts with. */
export const CONFIG_FILE = "config.json";

/**
 * `codec`, or absent for null. Marked so that oci-support.ts, which walks the
 * codecs to tell known fields from unknown ones, can see through it.
 */
export class Nullable<C extends t.Mixed> extends t.Type<t.TypeOf<C> | undefined, unknown, unknown> {
  readonly _tag = "Nullable" as const;
  constructor(readonly inner: C) {
    super(
      inner.name,
      (u): u is t.TypeOf<C> | undefined => u === undefined || inner.is(u),
      (u, c) => (u === null || u === undefined ? t.success(undefined) : inner.validate(u, c)),
      (a) => (a === undefined ? undefined : inner.encode(a)),
    );
  }
}

const opt = <C extends t.Mixed>(codec: C): Nullable<C> => new Nullable(codec);

const integer = (name: string, min: number, max: number): t.Type<number, number, unknown> => {
  const ok = (u: unknown): u is number =>
    typeof u === "number" && Number.isInteger(u) && u >= min && u <= max;
  return new t.Type<number, number, unknown>(
    name,
    ok,
    (u, c) => (ok(u) ? t.success(u) : t.failure(u, c)),
    t.identity,
  );
};

// defs.json's integer types. JSON numbers are doubles: values past 2^53 lose
// their low bits, so 2^64-1 (RLIM_INFINITY, which engines write for an
// unlimited rlimit) reads as 2^64; a reader compares with >= 2^64 - 1.
const Uint16 = integer("uint16", 0, 0xffff);
const Uint32 = integer("uint32", 0, 0xffffffff);
const Int32 = integer("int32", -(2 ** 31), 2 ** 31 - 1);
const Uint64 = integer("uint64", 0, 2 ** 64);
const Int64 = integer("int64", -(2 ** 63), 2 ** 63);
/** defs.json Hook.timeout: seconds, at least 1. */
const PositiveInt = integer("positive integer", 1, Number.MAX_SAFE_INTEGER);

const isAbsolute = (u: unknown): u is string => typeof u === "string" && u.startsWith("/");
/** Paths the spec says MUST be absolute: process.cwd, hook paths, namespace paths, masked and read-only paths. */
const AbsolutePath = new t.Type<string, string, unknown>(
  "absolute path",
  isAbsolute,
  (u, c) => (isAbsolute(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

const isNonEmpty = (u: unknown): u is string => typeof u === "string" && u.length > 0;
const NonEmptyString = new t.Type<string, string, unknown>(
  "non-empty string",
  isNonEmpty,
  (u, c) => (isNonEmpty(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

const Strings = t.readonlyArray(t.string, "string[]");
const isArgv = (u: unknown): u is readonly string[] => Strings.is(u) && u.length > 0;
/** config.md, process.args: "at least one entry is REQUIRED" (non-Windows). */
const Argv = new t.Type<readonly string[], readonly string[], unknown>(
  "non-empty string[]",
  isArgv,
  (u, c) => (isArgv(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);
const AbsolutePaths = t.readonlyArray(AbsolutePath, "absolute path[]");
const StringMap = t.readonly(t.record(t.string, t.string), "{ [key: string]: string }");

/** An object with required and optional fields; unknown fields pass through. */
const struct = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O) =>
  t.intersection([t.readonly(t.type(required)), t.readonly(t.partial(optional))], name);
/** An object whose fields are all optional. */
const fields = <O extends t.Props>(name: string, optional: O) => t.readonly(t.partial(optional), name);

const list = <C extends t.Mixed>(codec: C) => t.readonlyArray(codec, `${codec.name}[]`);

// defs.json IDMapping (config-linux.md, "User namespace mappings").
export const IdMapping = struct("IDMapping", { containerID: Uint32, hostID: Uint32, size: Uint32 }, {});
export type IdMapping = t.TypeOf<typeof IdMapping>;

// config.md, "Mounts". destination may be relative since 1.2 (then under "/").
export const Mount = struct(
  "Mount",
  { destination: t.string },
  {
    type: opt(t.string),
    source: opt(t.string),
    options: opt(Strings),
    uidMappings: opt(list(IdMapping)),
    gidMappings: opt(list(IdMapping)),
  },
);
export type Mount = t.TypeOf<typeof Mount>;

// config.md, "POSIX process": rlimits; type is checked against the kernel's names by oci-support.ts.
export const Rlimit = struct("POSIXRlimit", { type: t.string, soft: Uint64, hard: Uint64 }, {});
export type Rlimit = t.TypeOf<typeof Rlimit>;

// config.md, "POSIX-platform User"; username is Windows'.
export const User = struct(
  "User",
  { uid: Uint32, gid: Uint32 },
  { umask: opt(Uint32), additionalGids: opt(list(Uint32)), username: opt(t.string) },
);
export type User = t.TypeOf<typeof User>;

export const Capabilities = fields("Capabilities", {
  bounding: opt(Strings),
  effective: opt(Strings),
  inheritable: opt(Strings),
  permitted: opt(Strings),
  ambient: opt(Strings),
});
export type Capabilities = t.TypeOf<typeof Capabilities>;

// config.md, "Process", "POSIX process", "Linux Process". The spec makes
// process optional until start; nook always starts what it creates.
export const Process = struct(
  "Process",
  { user: User, args: Argv, cwd: AbsolutePath },
  {
    terminal: opt(t.boolean),
    consoleSize: opt(struct("Box", { height: Uint32, width: Uint32 }, {})),
    env: opt(Strings),
    commandLine: opt(t.string),
    capabilities: opt(Capabilities),
    rlimits: opt(list(Rlimit)),
    noNewPrivileges: opt(t.boolean),
    apparmorProfile: opt(t.string),
    oomScoreAdj: opt(Int32),
    selinuxLabel: opt(t.string),
    // 1.2
    scheduler: opt(
      struct(
        "Scheduler",
        { policy: t.string },
        {
          nice: opt(Int32),
          priority: opt(Int32),
          flags: opt(Strings),
          runtime: opt(Uint64),
          deadline: opt(Uint64),
          period: opt(Uint64),
        },
      ),
    ),
    ioPriority: opt(struct("IOPriority", { class: t.string }, { priority: opt(Int32) })),
    execCPUAffinity: opt(fields("CPUAffinity", { initial: opt(t.string), final: opt(t.string) })),
  },
);
export type Process = t.TypeOf<typeof Process>;

// config.md, "Root": relative paths are relative to the bundle.
export const Root = struct("Root", { path: NonEmptyString }, { readonly: opt(t.boolean) });
export type Root = t.TypeOf<typeof Root>;

// defs.json Hook; config.md, "POSIX-platform Hooks".
export const Hook = struct(
  "Hook",
  { path: AbsolutePath },
  { args: opt(Strings), env: opt(Strings), timeout: opt(PositiveInt) },
);
export type Hook = t.TypeOf<typeof Hook>;

const Hooks = list(Hook);
export const HookSet = fields("Hooks", {
  prestart: opt(Hooks),
  createRuntime: opt(Hooks),
  createContainer: opt(Hooks),
  startContainer: opt(Hooks),
  poststart: opt(Hooks),
  poststop: opt(Hooks),
});
export type HookSet = t.TypeOf<typeof HookSet>;

// config-linux.md, "Namespaces".
export const Namespace = struct("Namespace", { type: t.string }, { path: opt(AbsolutePath) });
export type Namespace = t.TypeOf<typeof Namespace>;

// config-linux.md, "Devices": major and minor are required unless type is p,
// which oci-support.ts checks (one codec cannot say it in a field's path).
export const Device = struct(
  "Device",
  { type: t.keyof({ c: null, b: null, u: null, p: null }, '"c" | "b" | "u" | "p"'), path: AbsolutePath },
  { major: opt(Int64), minor: opt(Int64), fileMode: opt(Uint32), uid: opt(Uint32), gid: opt(Uint32) },
);
export type Device = t.TypeOf<typeof Device>;

// config-linux.md, "Allowed Device list".
export const DeviceRule = struct(
  "DeviceCgroup",
  { allow: t.boolean },
  { type: opt(t.string), major: opt(Int64), minor: opt(Int64), access: opt(t.string) },
);
export type DeviceRule = t.TypeOf<typeof DeviceRule>;

export const Memory = fields("Memory", {
  limit: opt(Int64),
  reservation: opt(Int64),
  swap: opt(Int64),
  kernel: opt(Int64),
  kernelTCP: opt(Int64),
  swappiness: opt(Uint64),
  disableOOMKiller: opt(t.boolean),
  useHierarchy: opt(t.boolean),
  checkBeforeUpdate: opt(t.boolean),
});
export type Memory = t.TypeOf<typeof Memory>;

export const Cpu = fields("CPU", {
  shares: opt(Uint64),
  quota: opt(Int64),
  burst: opt(Uint64),
  period: opt(Uint64),
  realtimeRuntime: opt(Int64),
  realtimePeriod: opt(Uint64),
  cpus: opt(t.string),
  mems: opt(t.string),
  idle: opt(Int64),
});
export type Cpu = t.TypeOf<typeof Cpu>;

const BlockIoDevice = { major: Int64, minor: Int64 };
const WeightDevice = struct("WeightDevice", BlockIoDevice, { weight: opt(Uint16), leafWeight: opt(Uint16) });
const ThrottleDevice = struct("ThrottleDevice", BlockIoDevice, { rate: opt(Uint64) });
export const BlockIo = fields("BlockIO", {
  weight: opt(Uint16),
  leafWeight: opt(Uint16),
  weightDevice: opt(list(WeightDevice)),
  throttleReadBpsDevice: opt(list(ThrottleDevice)),
  throttleWriteBpsDevice: opt(list(ThrottleDevice)),
  throttleReadIOPSDevice: opt(list(ThrottleDevice)),
  throttleWriteIOPSDevice: opt(list(ThrottleDevice)),
});
export type BlockIo = t.TypeOf<typeof BlockIo>;

// config-linux.md, "Control groups". pids.limit is required up to 1.2 and
// optional from 1.3; read as optional so a 1.3 config still decodes.
export const Resources = fields("Resources", {
  devices: opt(list(DeviceRule)),
  memory: opt(Memory),
  cpu: opt(Cpu),
  pids: opt(fields("Pids", { limit: opt(Int64) })),
  blockIO: opt(BlockIo),
  hugepageLimits: opt(list(struct("HugepageLimit", { pageSize: t.string, limit: Uint64 }, {}))),
  network: opt(
    fields("Network", {
      classID: opt(Uint32),
      priorities: opt(list(struct("InterfacePriority", { name: t.string, priority: Uint32 }, {}))),
    }),
  ),
  rdma: opt(
    t.readonly(
      t.record(t.string, fields("Rdma", { hcaHandles: opt(Uint32), hcaObjects: opt(Uint32) })),
      "Rdma map",
    ),
  ),
  unified: opt(StringMap),
});
export type Resources = t.TypeOf<typeof Resources>;

// config-linux.md, "Seccomp".
export const SyscallArg = struct(
  "SyscallArg",
  { index: Uint32, value: Uint64, op: t.string },
  { valueTwo: opt(Uint64) },
);
export const Syscall = struct(
  "Syscall",
  { names: Argv, action: t.string },
  { errnoRet: opt(Uint32), args: opt(list(SyscallArg)) },
);
export type Syscall = t.TypeOf<typeof Syscall>;
export const Seccomp = struct(
  "Seccomp",
  { defaultAction: t.string },
  {
    defaultErrnoRet: opt(Uint32),
    architectures: opt(Strings),
    flags: opt(Strings),
    listenerPath: opt(t.string),
    listenerMetadata: opt(t.string),
    syscalls: opt(list(Syscall)),
  },
);
export type Seccomp = t.TypeOf<typeof Seccomp>;

// config-linux.md. netDevices and memoryPolicy are 1.3; named so that a
// config asking for them is refused for what it asks, not as unknown.
export const Linux = fields("Linux", {
  namespaces: opt(list(Namespace)),
  uidMappings: opt(list(IdMapping)),
  gidMappings: opt(list(IdMapping)),
  timeOffsets: opt(
    t.readonly(
      t.record(t.string, fields("TimeOffset", { secs: opt(Int64), nanosecs: opt(Uint32) })),
      "TimeOffsets",
    ),
  ),
  devices: opt(list(Device)),
  cgroupsPath: opt(t.string),
  resources: opt(Resources),
  sysctl: opt(StringMap),
  seccomp: opt(Seccomp),
  rootfsPropagation: opt(t.string),
  maskedPaths: opt(AbsolutePaths),
  readonlyPaths: opt(AbsolutePaths),
  mountLabel: opt(t.string),
  intelRdt: opt(t.unknown),
  personality: opt(struct("Personality", { domain: t.string }, { flags: opt(Strings) })),
  netDevices: opt(t.unknown),
  memoryPolicy: opt(t.unknown),
});
export type Linux = t.TypeOf<typeof Linux>;

// config.md. Other platforms' sections are named (t.unknown) so that their
// presence is refused by name.
export const OciConfig = struct(
  "OciConfig",
  { ociVersion: t.string, process: Process, root: Root },
  {
    hostname: opt(t.string),
    domainname: opt(t.string),
    mounts: opt(list(Mount)),
    hooks: opt(HookSet),
    annotations: opt(StringMap),
    linux: opt(Linux),
    solaris: opt(t.unknown),
    windows: opt(t.unknown),
    vm: opt(t.unknown),
    zos: opt(t.unknown),
    freebsd: opt(t.unknown),
  },
);
export type OciConfig = t.TypeOf<typeof OciConfig>;

const SAFE_KEY = /^[\x21-\x7e]{1,64}$/;
const CAP = 40;

/**
 * A value as deep and as wide as an error message can show (it prints 37
 * characters): JSON.stringify of a value nested 100,000 deep overflows the
 * stack, and a config.json is outside input.
 */
const capped = (v: unknown, depth = 0): unknown => {
  if (typeof v !== "object" || v === null) return v;
  if (depth >= CAP) return "...";
  if (Array.isArray(v)) return v.slice(0, CAP).map((x) => capped(x, depth + 1));
  return Object.fromEntries(
    Object.entries(v)
      .slice(0, CAP)
      .map(([k, x]) => [k, capped(x, depth + 1)]),
  );
};

/**
 * An io-ts error as the shared reporter (image/manifest.ts) can print it in
 * one line: an optional field's step names the codec inside Nullable (so
 * intersection members are not mistaken for array indices), keys with
 * control characters or of any length are quoted and cut, values capped.
 */
const presentable = (error: t.ValidationError): t.ValidationError => ({
  ...error,
  value: capped(error.value),
  context: error.context.map((entry) => ({
    ...entry,
    key: SAFE_KEY.test(entry.key) || entry.key === "" ? entry.key : quoteKey(entry.key),
    type: entry.type instanceof Nullable ? (entry.type.inner as t.Decoder<unknown, unknown>) : entry.type,
  })),
});

const quoteKey = (key: string): string => {
  const s = JSON.stringify(key);
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
};

export interface DecodedConfig {
  readonly config: OciConfig;
  /** root.path made absolute: a relative path is relative to the bundle (config.md, "Root"). */
  readonly root: string;
}

/**
 * config.json's text, decoded; `bundleDir` is the bundle's directory (made
 * absolute against the working directory when relative). One line on failure:
 * "config.json: process.user.uid: expected uint32, got -1".
 */
export const decodeConfig = (text: string, bundleDir: string): E.Either<string, DecodedConfig> => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left(`${CONFIG_FILE}: not JSON (${(e as Error).message})`);
  }
  const decoded = OciConfig.decode(json);
  if (E.isLeft(decoded)) return E.left(formatDecodeFailure(CONFIG_FILE, decoded.left.map(presentable)));
  const config = decoded.right;
  return E.right({ config, root: path.resolve(bundleDir, config.root.path) });
};
