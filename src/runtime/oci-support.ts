// What nook can honour of a decoded config.json, field by field, so that
// `nook oci create` refuses a config by name ("config.json: linux.intelRdt is
// not supported: ...") instead of running something other than asked.
//
// The verdicts are data (SUPPORT below): every field the codecs of
// oci-spec.ts name has an entry, which the unit tests check both ways. A
// field without one is refused, so a codec that grows a field is refused
// until someone decides. Three kinds of entry:
//   - "honoured": nook does what the field says; its sub-fields are checked in turn;
//   - a reason: nook cannot do it; the field is refused whole;
//   - a check: honoured for some values; the check names the ones refused,
//     then the sub-fields are checked in turn.
//
// What nook honours (rootless, inside a user namespace of its own):
//   process.*: terminal and consoleSize, user (uid, gid, umask,
//     additionalGids), args, env, cwd, capabilities, rlimits,
//     noNewPrivileges, oomScoreAdj; not AppArmor or SELinux labels, nor the
//     1.2 scheduler, ioPriority and execCPUAffinity
//   root (path, readonly); hostname (in a uts namespace of the container's),
//     not domainname
//   mounts of type bind (or options bind/rbind), tmpfs, proc, sysfs, devpts,
//     mqueue, cgroup and cgroup2: what a user namespace may mount; no
//     id-mapped mounts
//   hooks: prestart, createRuntime, poststart, poststop (createContainer and startContainer only empty), annotations
//   linux.namespaces: user, mount, pid, ipc, uts, network, cgroup, created or
//     joined by path; not time
//   linux.uidMappings and gidMappings; linux.devices, as binds of host nodes
//     the user can open (no mknod in a user namespace)
//   linux.resources through nook's cgroup managers: memory limit,
//     reservation and swap; cpu shares, quota, period and cpus; pids limit;
//     blockIO weight; device rules that deny everything (what a user
//     namespace enforces anyway)
//   linux.cgroupsPath, sysctl (namespaced ones only), seccomp (without
//     notification), rootfsPropagation, maskedPaths, readonlyPaths
//
// Unknown fields are not refused: the spec's Extensibility section (config.md)
// says a runtime MAY log them and MUST otherwise ignore them. They come back
// as findings of kind "ignored", with the few known fields the spec lets a
// runtime ignore (memory.kernel, unknown capability names), for the runtime
// to log as warnings.
import { CAPABILITIES as KERNEL_CAPABILITIES } from "./capabilities.js";
import { ACTIONS, ARCHES, OPERATORS } from "./seccomp/profile.js";
import * as t from "io-ts";
import {
  CONFIG_FILE,
  type Device,
  type DeviceRule,
  type Mount,
  type Namespace,
  Nullable,
  type OciConfig,
  OciConfig as OciConfigCodec,
  type Rlimit,
} from "./oci-spec.js";
import { RLIMITS } from "./rlimit.js";

export type FindingKind = "unsupported" | "ignored";

export interface Finding {
  /** The field's path in config.json: "linux.intelRdt", "mounts[2].type", 'linux.sysctl["vm.swappiness"]'. */
  readonly path: string;
  readonly kind: FindingKind;
  /** One line: why nook cannot honour it, or why it is ignored. */
  readonly reason: string;
}

/** What a check says about a value: `at` extends the field's path (".type", "[2]"). */
interface Issue {
  readonly at?: string;
  readonly reason: string;
  readonly kind?: FindingKind;
}

type Check = (value: never, config: OciConfig) => readonly Issue[];
export type Verdict = "honoured" | { readonly refused: string } | { readonly check: Check };

const refused = (reason: string): Verdict => ({ refused: reason });
const IN_CONTAINER_HOOKS =
  "hooks that run in the container's namespaces (createContainer, startContainer) are not run by nook; prestart, createRuntime, poststart and poststop are";
// Checks are typed by the codec of the field they sit on; the walk passes the decoded value.
const check = <A>(f: (value: A, config: OciConfig) => readonly Issue[]): Verdict => ({ check: f as Check });

/** A string for a message: cut short, then JSON-quoted (control characters escaped, so one line). */
const show = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

const hasNamespace = (config: OciConfig, type: string): boolean =>
  (config.linux?.namespaces ?? []).some((ns) => ns.type === type);

const nonEmpty =
  (reason: string) =>
  (v: string): readonly Issue[] =>
    v === "" ? [] : [{ reason }];

const NAMESPACES = new Set(["user", "mount", "pid", "ipc", "uts", "network", "cgroup"]);

const namespaceType = (ns: Namespace): readonly Issue[] => {
  if (NAMESPACES.has(ns.type)) return [];
  if (ns.type === "time")
    return [{ at: ".type", reason: "a time namespace: nook's helper does not create or join one" }];
  return [{ at: ".type", reason: `unknown namespace type ${show(ns.type)}` }];
};

/** config-linux.md: a type listed twice MUST be an error. */
const duplicated = <A>(key: (a: A) => string, what: string) => {
  return (items: readonly A[]): readonly Issue[] => {
    const seen = new Set<string>();
    const out: Issue[] = [];
    items.forEach((item, i) => {
      const k = key(item);
      if (seen.has(k)) out.push({ at: `[${i}]`, reason: `${what} ${show(k)} is given twice` });
      seen.add(k);
    });
    return out;
  };
};

// config.md, "Mounts": a bind mount is one whose options say bind or rbind;
// its type is a dummy ("none", "bind" or absent). runc also reads type
// "bind" as one.
const MOUNT_TYPES = new Set(["tmpfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2"]);
const isBind = (m: Mount): boolean =>
  m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind");

const mountType = (m: Mount): readonly Issue[] => {
  if (isBind(m) || (m.type !== undefined && MOUNT_TYPES.has(m.type))) return [];
  if (m.type === undefined || m.type === "" || m.type === "none")
    return [{ at: ".type", reason: "no file system type, and no bind or rbind option" }];
  return [
    {
      at: ".type",
      reason: `nook mounts bind, tmpfs, proc, sysfs, devpts, mqueue and cgroup file systems rootless, not ${show(m.type)}`,
    },
  ];
};

const IDMAP_REASON =
  "id-mapped mounts need privilege over the source's mount, which belongs to the host's user namespace";

const mountOptions = (options: readonly string[]): readonly Issue[] =>
  options.flatMap((o, i) =>
    o === "idmap" || o === "ridmap" ? [{ at: `[${i}]`, reason: IDMAP_REASON }] : [],
  );

// capabilities(7), as nook numbers them (runtime/capabilities.ts).
const CAPABILITIES = new Set(KERNEL_CAPABILITIES.map((c) => `CAP_${c}`));

// config.md, "Linux Process": a capability that cannot be granted is logged
// as a warning; the runtime SHOULD NOT fail.
const capabilitySet = (caps: readonly string[]): readonly Issue[] =>
  caps.flatMap((c, i) =>
    CAPABILITIES.has(c)
      ? []
      : [{ at: `[${i}]`, kind: "ignored" as const, reason: `unknown capability ${show(c)}` }],
  );

const rlimitName = (type: string): string | undefined => {
  const name = type.startsWith("RLIMIT_") ? type.slice("RLIMIT_".length).toLowerCase() : undefined;
  return name !== undefined && Object.hasOwn(RLIMITS, name) ? name : undefined;
};

// config.md, "POSIX process": a type that maps to no kernel limit MUST be an error.
const rlimit = (r: Rlimit): readonly Issue[] => {
  if (rlimitName(r.type) === undefined) return [{ at: ".type", reason: `unknown rlimit ${show(r.type)}` }];
  if (r.soft > r.hard) return [{ reason: "the soft limit is above the hard limit" }];
  return [];
};

// Sysctls that belong to a namespace (the kernel's ipc, uts and net
// namespaces; the list Podman's --sysctl documents). Any other one is the
// host's, which only root of the host may set.
const IPC_SYSCTLS = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);
const UTS_SYSCTLS = new Set(["kernel.hostname", "kernel.domainname"]);

const sysctlNamespace = (key: string): string | undefined =>
  IPC_SYSCTLS.has(key) || key.startsWith("fs.mqueue.")
    ? "ipc"
    : UTS_SYSCTLS.has(key)
      ? "uts"
      : key.startsWith("net.")
        ? "network"
        : undefined;

const sysctl = (map: Readonly<Record<string, string>>, config: OciConfig): readonly Issue[] =>
  Object.keys(map).flatMap((key) => {
    const ns = sysctlNamespace(key);
    const at = `[${show(key)}]`;
    if (ns === undefined) return [{ at, reason: "not a namespaced sysctl: it would change the host" }];
    if (!hasNamespace(config, ns))
      return [{ at, reason: `needs the container's own ${ns} namespace, and linux.namespaces has none` }];
    return [];
  });

// config-linux.md, "Allowed Device list". A user namespace cannot mknod, and
// a container reaches only the nodes nook binds (the default devices and
// linux.devices); without a device controller (cgroup v2 device rules are
// eBPF programs, which only the host's root attaches) nook can deny nothing
// among those. So a rule that denies everything is what nook gives anyway,
// and an allow rule adds nothing a bind has not given; a rule denying one
// device nook cannot enforce.
const deviceRule = (r: DeviceRule): readonly Issue[] => {
  const all = (r.type === undefined || r.type === "a") && r.major === undefined && r.minor === undefined;
  return r.allow || all
    ? []
    : [{ reason: "denying one device needs a device controller, which rootless nook does not have" }];
};

const device = (d: Device): readonly Issue[] => {
  if (d.type === "p")
    return [{ at: ".type", reason: "a FIFO: nook binds host device nodes, and a FIFO has none" }];
  if (d.major === undefined || d.minor === undefined)
    return [{ reason: `a ${d.type} device needs major and minor numbers` }];
  return [];
};

const oneOf =
  (known: readonly string[], what: string, extra: (v: string) => string | undefined = () => undefined) =>
  (v: string): readonly Issue[] => {
    const why = extra(v);
    if (why !== undefined) return [{ reason: why }];
    return known.includes(v) ? [] : [{ reason: `unknown ${what} ${show(v)}` }];
  };

// defs-linux.json, SeccompAction, SeccompArch, SeccompFlag, SeccompOperators.
const SECCOMP_ACTIONS: readonly string[] = ACTIONS;
const NOTIFY_REASON = "seccomp notification: nook does not pass the listener's descriptor to an agent";
const seccompAction = oneOf(SECCOMP_ACTIONS, "seccomp action", (v) =>
  v === "SCMP_ACT_NOTIFY" ? NOTIFY_REASON : undefined,
);
const SECCOMP_ARCHES: readonly string[] = ARCHES;
const SECCOMP_FLAGS = [
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];
const SECCOMP_OPERATORS: readonly string[] = OPERATORS;
const eachOf =
  (f: (v: string) => readonly Issue[]) =>
  (vs: readonly string[]): readonly Issue[] =>
    vs.flatMap((v, i) => f(v).map((issue) => ({ ...issue, at: `[${i}]${issue.at ?? ""}` })));

const NOT_LINUX = "nook runs Linux containers only";
const NOT_A_LIMIT = "not one of the limits nook's cgroup managers set (memory, cpu, pids, io weight)";

/**
 * The verdict on each field, by path; `[*]` stands for any array index.
 * Sub-fields of a refused field need no entry (the field is refused whole);
 * an array of objects may have an entry for its elements (`mounts[*]`).
 */
export const SUPPORT: ReadonlyMap<string, Verdict> = new Map<string, Verdict>([
  [
    "ociVersion",
    check((v: string) => (/^1\.\d+\.\d+/.test(v) ? [] : [{ reason: "nook reads runtime-spec 1.x" }])),
  ],

  ["process", "honoured"],
  ["process.terminal", "honoured"],
  ["process.consoleSize", "honoured"],
  ["process.consoleSize.height", "honoured"],
  ["process.consoleSize.width", "honoured"],
  ["process.user", "honoured"],
  ["process.user.uid", "honoured"],
  ["process.user.gid", "honoured"],
  ["process.user.umask", "honoured"],
  ["process.user.additionalGids", "honoured"],
  ["process.user.username", refused("a Windows field; on Linux process.user.uid names the user")],
  ["process.args", "honoured"],
  ["process.env", "honoured"],
  ["process.cwd", "honoured"],
  ["process.commandLine", refused("a Windows field; nook runs process.args")],
  ["process.capabilities", "honoured"],
  ["process.capabilities.bounding", check(capabilitySet)],
  ["process.capabilities.effective", check(capabilitySet)],
  ["process.capabilities.inheritable", check(capabilitySet)],
  ["process.capabilities.permitted", check(capabilitySet)],
  ["process.capabilities.ambient", check(capabilitySet)],
  ["process.rlimits", check(duplicated((r: Rlimit) => r.type, "rlimit"))],
  ["process.rlimits[*]", check(rlimit)],
  ["process.rlimits[*].type", "honoured"],
  ["process.rlimits[*].soft", "honoured"],
  ["process.rlimits[*].hard", "honoured"],
  ["process.noNewPrivileges", "honoured"],
  ["process.oomScoreAdj", "honoured"],
  [
    "process.apparmorProfile",
    check(nonEmpty("nook applies no AppArmor profile (loading and assigning one is root's)")),
  ],
  ["process.selinuxLabel", check(nonEmpty("nook sets no SELinux labels"))],
  ["process.scheduler", refused("nook's helper does not set scheduling policies (sched_setattr)")],
  ["process.ioPriority", refused("nook's helper does not set I/O priorities (ioprio_set)")],
  ["process.execCPUAffinity", refused("nook's helper does not set the CPU affinity of exec'd processes")],

  ["root", "honoured"],
  ["root.path", "honoured"],
  ["root.readonly", "honoured"],

  [
    "hostname",
    check((v: string, config) =>
      v === "" || hasNamespace(config, "uts")
        ? []
        : [
            {
              reason:
                "setting a hostname needs the container's own uts namespace, and linux.namespaces has none",
            },
          ],
    ),
  ],
  ["domainname", check(nonEmpty("nook's helper sets the hostname only, not the NIS domain name"))],

  ["mounts", "honoured"],
  ["mounts[*]", check(mountType)],
  ["mounts[*].destination", "honoured"],
  ["mounts[*].type", "honoured"],
  ["mounts[*].source", "honoured"],
  ["mounts[*].options", check(mountOptions)],
  ["mounts[*].uidMappings", refused(IDMAP_REASON)],
  ["mounts[*].gidMappings", refused(IDMAP_REASON)],

  ...["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"].flatMap(
    (hook): [string, Verdict][] => [
      [
        `hooks.${hook}`,
        hook === "createContainer" || hook === "startContainer"
          ? check((hooks: readonly unknown[]) =>
              hooks.length === 0 ? [] : [{ at: "", reason: IN_CONTAINER_HOOKS }],
            )
          : "honoured",
      ],
      [`hooks.${hook}[*].path`, "honoured"],
      [`hooks.${hook}[*].args`, "honoured"],
      [`hooks.${hook}[*].env`, "honoured"],
      [`hooks.${hook}[*].timeout`, "honoured"],
    ],
  ),
  ["hooks", "honoured"],
  ["annotations", "honoured"],

  ["linux", "honoured"],
  ["linux.namespaces", check(duplicated((ns: Namespace) => ns.type, "namespace type"))],
  ["linux.namespaces[*]", check(namespaceType)],
  ["linux.namespaces[*].type", "honoured"],
  ["linux.namespaces[*].path", "honoured"],
  ...["uidMappings", "gidMappings"].flatMap((m): [string, Verdict][] => [
    [`linux.${m}`, "honoured"],
    [`linux.${m}[*].containerID`, "honoured"],
    [`linux.${m}[*].hostID`, "honoured"],
    [`linux.${m}[*].size`, "honoured"],
  ]),
  ["linux.timeOffsets", refused("time namespaces: nook's helper does not create one")],
  ["linux.devices", "honoured"],
  ["linux.devices[*]", check(device)],
  ...["type", "path", "major", "minor", "fileMode", "uid", "gid"].map((f): [string, Verdict] => [
    `linux.devices[*].${f}`,
    "honoured",
  ]),
  ["linux.cgroupsPath", "honoured"],
  ["linux.resources", "honoured"],
  ["linux.resources.devices", "honoured"],
  ["linux.resources.devices[*]", check(deviceRule)],
  ...["allow", "type", "major", "minor", "access"].map((f): [string, Verdict] => [
    `linux.resources.devices[*].${f}`,
    "honoured",
  ]),
  ["linux.resources.memory", "honoured"],
  ["linux.resources.memory.limit", "honoured"],
  ["linux.resources.memory.reservation", "honoured"],
  ["linux.resources.memory.swap", "honoured"],
  [
    "linux.resources.memory.kernel",
    check(() => [
      {
        kind: "ignored",
        reason:
          "kernel memory limits are gone (Linux 5.4, and cgroup v2 never had one); the spec lets runtimes ignore it",
      },
    ]),
  ],
  ["linux.resources.memory.kernelTCP", refused("cgroup v2 has no separate TCP buffer limit")],
  ["linux.resources.memory.swappiness", refused("cgroup v2 has no per-cgroup swappiness")],
  [
    "linux.resources.memory.disableOOMKiller",
    check((v: boolean) => (v ? [{ reason: "cgroup v2 cannot turn the OOM killer off for a cgroup" }] : [])),
  ],
  [
    "linux.resources.memory.useHierarchy",
    check((v: boolean) => (v ? [] : [{ reason: "cgroup v2 accounting is always hierarchical" }])),
  ],
  [
    "linux.resources.memory.checkBeforeUpdate",
    check((v: boolean) =>
      v ? [{ reason: "nook does not compare a new limit with the memory in use" }] : [],
    ),
  ],
  // Spec and cgroup v2 agree on microseconds; nook's Limits keep cpu.max at a
  // 100 ms period, so quota/period converts to quota * 100000 / period.
  ["linux.resources.cpu", "honoured"],
  ["linux.resources.cpu.shares", "honoured"],
  ["linux.resources.cpu.quota", "honoured"],
  ["linux.resources.cpu.period", "honoured"],
  ["linux.resources.cpu.cpus", "honoured"],
  ["linux.resources.cpu.mems", refused(`cpuset.mems: ${NOT_A_LIMIT}`)],
  ["linux.resources.cpu.burst", refused(`cpu.max.burst: ${NOT_A_LIMIT}`)],
  ["linux.resources.cpu.idle", refused(`cpu.idle: ${NOT_A_LIMIT}`)],
  ["linux.resources.cpu.realtimeRuntime", refused("cgroup v2 has no real-time bandwidth limits")],
  ["linux.resources.cpu.realtimePeriod", refused("cgroup v2 has no real-time bandwidth limits")],
  ["linux.resources.pids", "honoured"],
  ["linux.resources.pids.limit", "honoured"],
  ["linux.resources.blockIO", "honoured"],
  ["linux.resources.blockIO.weight", "honoured"],
  ["linux.resources.blockIO.leafWeight", refused("cgroup v2 has no leaf weight (a cgroup v1 CFQ setting)")],
  ...[
    "weightDevice",
    "throttleReadBpsDevice",
    "throttleWriteBpsDevice",
    "throttleReadIOPSDevice",
    "throttleWriteIOPSDevice",
  ].map((f): [string, Verdict] => [
    `linux.resources.blockIO.${f}`,
    refused(`per-device I/O: ${NOT_A_LIMIT}`),
  ]),
  ["linux.resources.hugepageLimits", refused(`hugetlb: ${NOT_A_LIMIT}`)],
  [
    "linux.resources.network",
    refused("net_cls and net_prio are cgroup v1 controllers; cgroup v2 has neither"),
  ],
  ["linux.resources.rdma", refused(`rdma: ${NOT_A_LIMIT}`)],
  ["linux.resources.unified", refused(`arbitrary cgroup v2 files: ${NOT_A_LIMIT}`)],
  ["linux.sysctl", check(sysctl)],
  ["linux.seccomp", "honoured"],
  ["linux.seccomp.defaultAction", check(seccompAction)],
  ["linux.seccomp.defaultErrnoRet", "honoured"],
  ["linux.seccomp.architectures", check(eachOf(oneOf(SECCOMP_ARCHES, "seccomp architecture")))],
  ["linux.seccomp.flags", check(eachOf(oneOf(SECCOMP_FLAGS, "seccomp flag")))],
  ["linux.seccomp.listenerPath", check(nonEmpty(NOTIFY_REASON))],
  ["linux.seccomp.listenerMetadata", check(nonEmpty(NOTIFY_REASON))],
  ["linux.seccomp.syscalls", "honoured"],
  ["linux.seccomp.syscalls[*].names", "honoured"],
  ["linux.seccomp.syscalls[*].action", check(seccompAction)],
  ["linux.seccomp.syscalls[*].errnoRet", "honoured"],
  ["linux.seccomp.syscalls[*].args", "honoured"],
  ["linux.seccomp.syscalls[*].args[*].index", "honoured"],
  ["linux.seccomp.syscalls[*].args[*].value", "honoured"],
  ["linux.seccomp.syscalls[*].args[*].valueTwo", "honoured"],
  ["linux.seccomp.syscalls[*].args[*].op", check(oneOf(SECCOMP_OPERATORS, "seccomp operator"))],
  [
    "linux.rootfsPropagation",
    check(oneOf(["private", "shared", "slave", "unbindable"], "rootfs propagation")),
  ],
  ["linux.maskedPaths", "honoured"],
  ["linux.readonlyPaths", "honoured"],
  ["linux.mountLabel", check(nonEmpty("nook sets no SELinux labels"))],
  ["linux.intelRdt", refused("Intel RDT: resctrl groups are root's to create and assign")],
  ["linux.personality", refused("nook's helper does not call personality(2)")],
  [
    "linux.netDevices",
    refused("moving a host network device into the container needs CAP_NET_ADMIN on the host"),
  ],
  ["linux.memoryPolicy", refused("nook's helper does not set a NUMA memory policy (set_mempolicy)")],

  ["solaris", refused(NOT_LINUX)],
  ["windows", refused(NOT_LINUX)],
  ["vm", refused("nook runs containers, not virtual machines")],
  ["zos", refused(NOT_LINUX)],
  ["freebsd", refused(NOT_LINUX)],
]);

const UNKNOWN_REASON = "not a runtime-spec 1.0-1.2 field nook knows; ignored (config.md, Extensibility)";

// The codecs, walked: which fields an object codec names, and an array's elements.
const unwrap = (codec: t.Mixed): t.Mixed =>
  codec instanceof Nullable
    ? unwrap(codec.inner)
    : codec instanceof t.ReadonlyType
      ? unwrap(codec.type)
      : codec;

const fieldsOf = (codec: t.Mixed): ReadonlyMap<string, t.Mixed> | undefined => {
  const c = unwrap(codec);
  if (c instanceof t.InterfaceType || c instanceof t.PartialType)
    return new Map(Object.entries(c.props as Record<string, t.Mixed>));
  if (c instanceof t.IntersectionType) {
    const members = (c.types as t.Mixed[]).map(fieldsOf);
    if (members.some((m) => m === undefined)) return undefined;
    return new Map(members.flatMap((m) => [...(m ?? [])]));
  }
  return undefined;
};

const elementOf = (codec: t.Mixed): t.Mixed | undefined => {
  const c = unwrap(codec);
  return c instanceof t.ReadonlyArrayType || c instanceof t.ArrayType ? (c.type as t.Mixed) : undefined;
};

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u);

/** A key as a path step: "name" (".name" after another), or '["odd key"]' for anything else. */
const join = (path: string, key: string): string =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? (path === "" ? key : `${path}.${key}`) : `${path}[${show(key)}]`;

interface Walk {
  readonly config: OciConfig;
  readonly out: Finding[];
}

const descend = (w: Walk, codec: t.Mixed, value: unknown, path: string, pattern: string): void => {
  const fields = fieldsOf(codec);
  if (fields && isRecord(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined) continue;
      const childCodec = fields.get(key);
      const childPath = join(path, key);
      if (childCodec === undefined) w.out.push({ path: childPath, kind: "ignored", reason: UNKNOWN_REASON });
      else visit(w, childCodec, child, childPath, join(pattern, key), false);
    }
    return;
  }
  const element = elementOf(codec);
  if (element && Array.isArray(value))
    value.forEach((item, i) => visit(w, element, item, `${path}[${i}]`, `${pattern}[*]`, true));
};

/** One field: its verdict, then its sub-fields. An array element may have no entry of its own. */
const visit = (
  w: Walk,
  codec: t.Mixed,
  value: unknown,
  path: string,
  pattern: string,
  element: boolean,
): void => {
  const verdict = SUPPORT.get(pattern);
  if (verdict === undefined && !element) {
    w.out.push({ path, kind: "unsupported", reason: "nook has no verdict on this field yet" });
    return;
  }
  if (verdict !== undefined && verdict !== "honoured") {
    if ("refused" in verdict) {
      w.out.push({ path, kind: "unsupported", reason: verdict.refused });
      return;
    }
    for (const issue of verdict.check(value as never, w.config))
      w.out.push({
        path: `${path}${issue.at ?? ""}`,
        kind: issue.kind ?? "unsupported",
        reason: issue.reason,
      });
  }
  descend(w, codec, value, path, pattern);
};

/** Every field of `config`, judged: the ones nook cannot honour, and the ones it ignores. */
export const checkConfig = (config: OciConfig): readonly Finding[] => {
  const w: Walk = { config, out: [] };
  descend(w, OciConfigCodec, config, "", "");
  return w.out;
};

/** The fields of `config` nook cannot honour, each with its reason; empty when it can run it as written. */
export const unsupported = (config: OciConfig): readonly Finding[] =>
  checkConfig(config).filter((f) => f.kind === "unsupported");

/** The fields nook ignores (unknown ones, and those the spec lets it ignore): for warnings, never errors. */
export const ignored = (config: OciConfig): readonly Finding[] =>
  checkConfig(config).filter((f) => f.kind === "ignored");

/** "config.json: linux.intelRdt is not supported: <reason>", or "... is ignored: <reason>". */
export const formatFinding = (f: Finding): string =>
  `${CONFIG_FILE}: ${f.path} ${f.kind === "unsupported" ? "is not supported" : "is ignored"}: ${f.reason}`;

/**
 * The paths the codecs name, as SUPPORT writes them (stopping under refused
 * fields): `fields` need a verdict each; `elements` (arrays of objects) may
 * have one. For the tests that hold SUPPORT and the codecs to each other.
 */
export const knownPatterns = (): {
  readonly fields: readonly string[];
  readonly elements: readonly string[];
} => {
  const fields: string[] = [];
  const elements: string[] = [];
  const walk = (codec: t.Mixed, pattern: string): void => {
    const named = fieldsOf(codec);
    if (named) {
      for (const [key, child] of named) {
        const p = join(pattern, key);
        fields.push(p);
        const verdict = SUPPORT.get(p);
        if (verdict === undefined || verdict === "honoured" || !("refused" in verdict)) walk(child, p);
      }
      return;
    }
    const element = elementOf(codec);
    if (element && fieldsOf(element)) elements.push(`${pattern}[*]`);
    if (element) walk(element, `${pattern}[*]`);
  };
  walk(OciConfigCodec, "");
  return { fields, elements };
};
