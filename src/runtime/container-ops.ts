// A container's setup as nook-helper ops (pure): what to mount where, in
// which order, and who the process runs as. The helper walks the list once
// (native/src/container.c); the order matters:
//   mount/ipc/uts/net namespaces -> private mounts -> rootfs -> pid namespace
//   (the fork: what follows runs in pid 1) -> pid 1's own mount namespace ->
//   /proc /dev [host devices] /sys -> binds ->
//   pivot_root -> sysctls -> masks and read-only paths -> hostname -> groups ->
//   capabilities -> ids -> [no_new_privs] -> workdir -> exec
// The rootfs is mounted before the fork so that a fuse-overlayfs daemon is
// the waiting parent's child, outside the container's pid namespace.
// Masks come after pivot_root so that their paths are the container's.
import type { HelperOp } from "./helper.js";
import type { Rlimit } from "./rlimit.js";
import { capabilityMask, DEFAULT_CAPABILITIES } from "./capabilities.js";

/** Paths Podman and Docker hide from containers (containers/common pkg/config, Docker's oci defaults). */
export const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/fs/selinux",
  "/sys/dev/block",
];

/** Paths they leave visible but read-only. */
export const READONLY_PATHS = [
  "/proc/asound",
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
];

export interface BindMount {
  readonly src: string;
  /** A path inside the container. */
  readonly dst: string;
  readonly readOnly: boolean;
}

export interface ContainerSpec {
  /** The store's layers/ directory: overlay's lower dirs are given relative to it. */
  readonly layersDir: string;
  /** Layer directory names under layersDir, lowest first: "<hex>/diff". */
  readonly layers: readonly string[];
  /** The container's own directory: upper/, work/, merged/, and the files nook writes. */
  readonly dir: string;
  readonly hostname: string;
  /** none: only lo; host: the host's; pasta, slirp4netns: a namespace of its own that nook connects. */
  readonly network: "none" | "host" | "pasta" | "slirp4netns";
  readonly binds: readonly BindMount[];
  /** Extra tmpfs mounts: container path -> mount options. */
  readonly tmpfs: readonly { path: string; options: string }[];
  readonly readOnly: boolean;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups; absent: none can be set (single-id map), leave them. */
  readonly groups?: readonly number[];
  readonly workdir: string;
  /** Remove `dir` when the container ends (--rm). */
  readonly removeAfter: boolean;
  /** Kernel overlayfs, or fuse-overlayfs where the kernel will not mount overlay in a user namespace;
   *  copy (the layers copied into merged/) where neither works. */
  readonly driver: "overlay" | "fuse-overlayfs" | "copy";
  /** fuse-overlayfs's uidmapping/gidmapping, when the namespace sees the layers' owners under other numbers (keep-id). */
  readonly fuseOptions?: string;
  /** A small init as pid 1 that reaps zombies and passes signals on (--init). */
  readonly init: boolean;
  /** -t: a pty from the container's devpts of this size, the command's stdio and controlling terminal. */
  readonly tty?: { readonly rows: number; readonly cols: number };
  /**
   * The pid namespace's waiting parent records pid 1 and its exit status in
   * `dir`; detached, it also holds the output and logs it (`log`, "" for none).
   */
  /** pid 1 waits, first thing, for nook to place it in the container's cgroup (not the monitor: it is not limited). */
  readonly cgroup?: boolean;
  readonly monitor?: {
    readonly log: string;
    readonly logMax: number;
    readonly tty: boolean;
    readonly stdin?: boolean;
    readonly waitAttach?: boolean;
  };
  /** setrlimit before the command runs (--ulimit and the defaults). */
  readonly rlimits?: readonly Rlimit[];
  /** no_new_privs (--security-opt no-new-privileges); off by default, as in Docker and Podman. */
  readonly noNewPrivileges?: boolean;
  /** The bounding set, by name (runtime/capabilities.ts); absent in old records: the default. */
  readonly capabilities?: readonly string[];
  /** The compiled seccomp filter for this start (app/seccomp-filter.ts); absent: none. */
  readonly seccompFilter?: SeccompFilter;
  /** --privileged: /sys read-write (where the kernel lets the user write). */
  readonly privileged?: boolean;
  /** Host device nodes bound into /dev at this start (--privileged: the ones the user may open). */
  readonly devices?: readonly string[];
  /** Masked and read-only paths; absent in old records: the defaults. */
  readonly maskedPaths?: readonly string[];
  readonly readonlyPaths?: readonly string[];
  /** --sysctl, written once /proc is the container's, before /proc/sys turns read-only. */
  readonly sysctls?: readonly { readonly name: string; readonly value: string }[];
}

export interface SeccompFilter {
  readonly file: string;
  readonly flags: number;
}

/** Who the process becomes, and how it is confined: the last steps before exec, for run and exec alike. */
export interface ProcessIdentity {
  readonly uid: number;
  readonly gid: number;
  readonly groups?: readonly number[];
  readonly workdir: string;
  readonly noNewPrivileges?: boolean;
  readonly capabilities?: readonly string[];
  readonly seccompFilter?: SeccompFilter;
}

// Capabilities go from the bounding set before the user changes (dropping
// needs CAP_SETPCAP); the exec computes the rest: the bounding set for root,
// nothing for another user (Docker's sets for `-u 1000`), all of it again for
// a setuid-root program unless no_new_privs stops that.
// The seccomp filter goes where runc puts it: without no_new_privs, loading
// one takes CAP_SYS_ADMIN, so it comes before the user changes (and the
// filter must allow setresuid, prctl, chdir, execve...); with no_new_privs,
// last, right before exec.
export const identityOps = (p: ProcessIdentity): HelperOp[] => {
  const filter: HelperOp[] = p.seccompFilter
    ? [{ op: "seccomp", file: p.seccompFilter.file, flags: p.seccompFilter.flags }]
    : [];
  return [
    ...(p.groups !== undefined ? [{ op: "groups", gids: p.groups } as const] : []),
    { op: "caps", mask: capabilityMask(p.capabilities ?? DEFAULT_CAPABILITIES) },
    ...(p.noNewPrivileges ? [] : filter),
    { op: "setid", uid: p.uid, gid: p.gid },
    // Off by default: setuid programs in the image (su, sudo, ping) work
    // within the user namespace, as Docker and Podman have them.
    ...(p.noNewPrivileges ? [{ op: "no-new-privs" } as const] : []),
    { op: "chdir", path: p.workdir },
    ...(p.noNewPrivileges ? filter : []),
  ];
};

const inRoot = (merged: string, p: string): string => `${merged}${p.startsWith("/") ? p : `/${p}`}`;

export const containerOps = (s: ContainerSpec): HelperOp[] => {
  const merged = `${s.dir}/merged`;
  return [
    ...(s.removeAfter ? [{ op: "rm-after", path: s.dir } as const] : []),
    {
      op: "unshare",
      namespaces: ["mount", "ipc", "uts", ...(s.network !== "host" ? (["net"] as const) : [])],
    },
    // pasta or slirp4netns joins the new network namespace through our pid
    // before anything runs in it; its pid comes back in net.pid.
    ...(s.network === "pasta" || s.network === "slirp4netns"
      ? [{ op: "net-wait", pidFile: `${s.dir}/net.pid` } as const]
      : []),
    { op: "mount-private" },
    s.driver === "copy"
      ? // No file system over the layers: a copy of them, this container's own,
        // bound onto merged/ so that it is a mount point as an overlay is.
        { op: "copy-rootfs", dir: s.layersDir, lowers: [...s.layers].reverse(), target: merged }
      : {
          op: s.driver === "overlay" ? "overlay" : "fuse-overlay",
          dir: s.layersDir,
          // overlayfs lists the top layer first; fuse-overlayfs wants whole paths
          // (it has no one-page limit on its options).
          lowers: [...s.layers].reverse().map((l) => (s.driver === "overlay" ? l : `${s.layersDir}/${l}`)),
          upper: `${s.dir}/upper`,
          work: `${s.dir}/work`,
          target: merged,
          ...(s.driver === "fuse-overlayfs" && s.fuseOptions ? { options: s.fuseOptions } : {}),
        },
    ...(s.monitor
      ? [
          {
            op: "monitor",
            dir: s.dir,
            log: s.monitor.log,
            logMax: s.monitor.logMax,
            tty: s.monitor.tty,
            ...(s.monitor.stdin ? { stdin: true } : {}),
            ...(s.monitor.waitAttach ? { waitAttach: true } : {}),
          } as const,
        ]
      : []),
    { op: "unshare", namespaces: ["pid"] },
    ...(s.cgroup ? [{ op: "cgroup-wait" } as const] : []),
    // pid 1 gets a mount namespace of its own: pivot_root moves the root of
    // every process of the namespace it runs in, and the waiting parent
    // (which removes the container's dir) and a fuse-overlayfs daemon (which
    // reads the layers by path) must keep the host's.
    { op: "unshare", namespaces: ["mount"] },
    { op: "proc", path: `${merged}/proc` },
    { op: "dev", path: `${merged}/dev` },
    ...(s.devices ?? []).map((d): HelperOp => ({ op: "bind", src: d, dst: `${merged}${d}` })),
    { op: "sys", path: `${merged}/sys`, rw: s.privileged ?? false },
    { op: "bind", src: `${s.dir}/hostname`, dst: `${merged}/etc/hostname` },
    { op: "bind", src: `${s.dir}/hosts`, dst: `${merged}/etc/hosts` },
    { op: "bind", src: `${s.dir}/resolv.conf`, dst: `${merged}/etc/resolv.conf` },
    ...s.binds.map((b): HelperOp => ({
      op: b.readOnly ? "ro-bind" : "bind",
      src: b.src,
      dst: inRoot(merged, b.dst),
    })),
    ...s.tmpfs.map((t): HelperOp => ({ op: "tmpfs", path: inRoot(merged, t.path), options: t.options })),
    // Read-only root: after everything is mounted on it, before pivot_root.
    ...(s.readOnly ? [{ op: "remount-ro", path: merged } as const] : []),
    { op: "pivot", path: merged },
    ...(s.sysctls ?? []).map((c): HelperOp => ({ op: "sysctl", name: c.name, value: c.value })),
    ...(s.maskedPaths ?? MASKED_PATHS).map((path): HelperOp => ({ op: "mask", path })),
    ...(s.readonlyPaths ?? READONLY_PATHS).map((path): HelperOp => ({ op: "readonly", path })),
    { op: "hostname", name: s.hostname },
    ...(s.rlimits ?? []).map((r): HelperOp => ({
      op: "rlimit",
      resource: r.resource,
      soft: r.soft,
      hard: r.hard,
    })),
    // The init stays root of the namespace; the command below it becomes the user.
    ...(s.init ? [{ op: "init" } as const] : []),
    ...(s.tty ? [{ op: "tty", rows: s.tty.rows, cols: s.tty.cols, console: true } as const] : []),
    ...identityOps(s),
  ];
};
