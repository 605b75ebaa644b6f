// Linux capabilities by name (capabilities(7), include/uapi/linux/capability.h)
// and the set a container gets from --cap-add, --cap-drop and --privileged
// (pure). The helper applies it (native/src/security.c).

/** Capability numbers, as the kernel numbers them. */
export const CAPABILITIES: readonly string[] = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
];

/**
 * The set rootless Podman gives a container (containers.conf's
 * default_capabilities since containers/common's "Rework default list of
 * capabilities to minimal"). Docker adds AUDIT_WRITE, MKNOD and NET_RAW; in a
 * user namespace the first two buy nothing (no audit socket, no device nodes)
 * and NET_RAW is raw sockets, which the smaller set leaves out.
 */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
];

/** "cap_net_admin", "NET_ADMIN", "Net_Admin" -> "NET_ADMIN"; "ALL" stays; unknown -> undefined. */
export const capabilityName = (given: string): string | undefined => {
  const upper = given.trim().toUpperCase();
  const bare = upper.startsWith("CAP_") ? upper.slice(4) : upper;
  if (bare === "ALL") return "ALL";
  return CAPABILITIES.includes(bare) ? bare : undefined;
};

export interface CapabilityRequest {
  readonly add: readonly string[];
  readonly drop: readonly string[];
  readonly privileged: boolean;
}

/**
 * The bounding set, as names in the kernel's order, or a one-line complaint.
 * Docker's rules: --privileged gives every capability; ALL in --cap-add starts
 * from every one, else from the default; ALL in --cap-drop empties that; the
 * other drops come off, then the other adds go on. `lastCap` is the kernel's
 * (/proc/sys/kernel/cap_last_cap): a capability it does not have is refused.
 */
export const capabilitySet = (req: CapabilityRequest, lastCap: number): string[] | string => {
  const known = CAPABILITIES.slice(0, lastCap + 1);
  const parse = (flag: string, list: readonly string[]): string[] | string => {
    const out: string[] = [];
    for (const c of list) {
      const name = capabilityName(c);
      if (name === undefined) return `${flag} ${c}: no such capability`;
      if (name !== "ALL" && !known.includes(name))
        return `${flag} ${c}: this kernel has no CAP_${name} (its last is CAP_${known[known.length - 1] ?? "?"})`;
      out.push(name);
    }
    return out;
  };
  const add = parse("--cap-add", req.add);
  if (typeof add === "string") return add;
  const drop = parse("--cap-drop", req.drop);
  if (typeof drop === "string") return drop;
  if (req.privileged) return [...known];
  let set = new Set<string>(add.includes("ALL") ? known : DEFAULT_CAPABILITIES);
  if (drop.includes("ALL")) set = new Set();
  for (const d of drop) set.delete(d);
  for (const a of add) if (a !== "ALL") set.add(a);
  return known.filter((c) => set.has(c));
};

/** The set as the helper's --caps mask: hexadecimal, bit N for capability N. */
export const capabilityMask = (names: readonly string[]): string =>
  names
    .reduce((mask, n) => {
      const i = CAPABILITIES.indexOf(n);
      return i < 0 ? mask : mask | (1n << BigInt(i));
    }, 0n)
    .toString(16);

/** The kernel's last capability; the newest nook knows when /proc does not say. */
export const lastCapability = (procText: string | undefined): number => {
  const n = Number(procText?.trim());
  return Number.isInteger(n) && n >= 0 ? Math.min(n, CAPABILITIES.length - 1) : CAPABILITIES.length - 1;
};
