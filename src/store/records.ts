// What the store writes about its objects, read back through these codecs: a
// store edited by hand or cut off by a crash is reported, never trusted.
import * as t from "io-ts";
import { Digest } from "../image/digest.js";

export const LayerRecord = t.type({
  diffId: Digest,
  /** The compressed blob it came from (the manifest's layer digest). */
  digest: Digest,
  /** Bytes of the regular files the layer holds (what Docker's SIZE adds up). */
  size: t.number,
  /** How OCI whiteouts are stored in diff/ (see rootfs/unpack.ts). */
  whiteouts: t.union([t.literal("overlay"), t.literal("keep")]),
  /** "mapped": owners are the image's, through the subuid map; "squashed": all the user's. */
  owners: t.union([t.literal("mapped"), t.literal("squashed")]),
});
export type LayerRecord = t.TypeOf<typeof LayerRecord>;

export const ImageRecord = t.intersection([
  t.type({
    /** The config's digest, Docker's image id. */
    id: Digest,
    manifestDigest: Digest,
    /** "docker.io/library/busybox@sha256:..." for each repository it was pulled from. */
    repoDigests: t.array(t.string),
    layers: t.array(t.type({ diffId: Digest, digest: Digest, size: t.number })),
    os: t.string,
    architecture: t.string,
    /** When nook stored it. */
    stored: t.string,
  }),
  t.partial({ variant: t.string, created: t.string }),
]);
export type ImageRecord = t.TypeOf<typeof ImageRecord>;

const Limit = t.union([t.number, t.literal("unlimited")]);

/**
 * How a container is set up: runtime/container-ops.ts's ContainerSpec, kept
 * so that `nook start` can run it again as it was created.
 */
export const ContainerSpecRecord = t.intersection([
  t.type({
    layersDir: t.string,
    layers: t.array(t.string),
    dir: t.string,
    hostname: t.string,
    network: t.union([t.literal("none"), t.literal("host"), t.literal("pasta"), t.literal("slirp4netns")]),
    binds: t.array(t.type({ src: t.string, dst: t.string, readOnly: t.boolean })),
    tmpfs: t.array(t.type({ path: t.string, options: t.string })),
    readOnly: t.boolean,
    uid: t.number,
    gid: t.number,
    workdir: t.string,
    removeAfter: t.boolean,
    driver: t.union([t.literal("overlay"), t.literal("fuse-overlayfs"), t.literal("copy")]),
    init: t.boolean,
  }),
  t.partial({
    /** More options for pasta or slirp4netns (--network pasta:OPTIONS). */
    networkOptions: t.array(t.string),
    ports: t.array(
      t.type({
        hostIp: t.string,
        hostPort: t.number,
        containerPort: t.number,
        proto: t.union([t.literal("tcp"), t.literal("udp")]),
      }),
    ),
    /** The host's loopback reachable from the container (through the gateway address). */
    hostLoopback: t.boolean,
    groups: t.array(t.number),
    fuseOptions: t.string,
    rlimits: t.array(t.type({ resource: t.number, name: t.string, soft: Limit, hard: Limit })),
    /** cgroup limits (cgroups/limits.ts's Limits). */
    limits: t.partial({
      memory: t.number,
      swap: Limit,
      memoryLow: t.number,
      cpuQuota: t.number,
      cpuWeight: t.number,
      cpuset: t.string,
      pids: t.number,
      ioWeight: t.number,
    }),
    /** --cgroup-manager as given (absent: chosen at each start) and --cgroups disabled. */
    cgroupManager: t.union([t.literal("systemd"), t.literal("cgroupfs")]),
    cgroupsDisabled: t.boolean,
    /** --security-opt no-new-privileges (absent in records older than it: off, as now by default). */
    noNewPrivileges: t.boolean,
    /** --security-opt as nook understood it (nook inspect). */
    securityOpt: t.array(t.string),
    /** The bounding set, by name; absent in records older than it: the default set. */
    capabilities: t.array(t.string),
    /** The seccomp profile: nook's default, none, or a file (its text kept in the container's dir). */
    seccomp: t.union([t.literal("default"), t.literal("unconfined"), t.type({ file: t.string })]),
    /** --privileged: every capability, no seccomp filter, no masked paths, /sys writable, the host's devices. */
    privileged: t.boolean,
    /** Paths hidden and made read-only (the defaults with --security-opt mask=/unmask=, none with --privileged). */
    maskedPaths: t.array(t.string),
    readonlyPaths: t.array(t.string),
    /** --sysctl, checked to be the container's own namespaces'. */
    sysctls: t.array(t.type({ name: t.string, value: t.string })),
    /** --cap-add and --cap-drop, names as nook understood them (nook inspect). */
    capAdd: t.array(t.string),
    capDrop: t.array(t.string),
  }),
]);

/** containers/ID/config.json: what the container is, written once by create. */
export const ContainerRecord = t.type({
  id: t.string,
  name: t.string,
  created: t.string,
  /** The image as the user named it, and the id it resolved to. */
  image: t.string,
  imageId: t.string,
  /** The command line that runs (entrypoint and command, combined). */
  argv: t.array(t.string),
  entrypoint: t.array(t.string),
  cmd: t.array(t.string),
  env: t.array(t.string),
  user: t.string,
  tty: t.boolean,
  interactive: t.boolean,
  /** --userns=keep-id (or --bind-home/--bind-cwd): the id map to make at each start. */
  keepId: t.boolean,
  stopSignal: t.string,
  spec: ContainerSpecRecord,
});
export type ContainerRecord = t.TypeOf<typeof ContainerRecord>;

/** containers/ID/started.json, by nook: which monitor watches this run, so a dead one is seen as such. */
export const StartRecord = t.type({
  monitorPid: t.number,
  /** /proc/PID/stat's starttime: a pid reused by another process does not match. */
  monitorStart: t.number,
  bootId: t.string,
  startedAt: t.string,
  detached: t.boolean,
});
export type StartRecord = t.TypeOf<typeof StartRecord>;

/** containers/ID/cgroup.json, by nook when it places a run in its cgroup. */
export const CgroupRecord = t.type({
  manager: t.union([t.literal("systemd"), t.literal("cgroupfs")]),
  /** The cgroup's path under /sys/fs/cgroup. */
  path: t.string,
  /** systemd: the scope's unit name. */
  unit: t.string,
});
export type CgroupRecord = t.TypeOf<typeof CgroupRecord>;

/** containers/ID/pid, by the monitor (native/src/monitor.c): the container's pid 1 on the host. */
export const PidRecord = t.type({ pid: t.number, startedAt: t.string });
export type PidRecord = t.TypeOf<typeof PidRecord>;

/** containers/ID/exit, by the monitor, or by nook when it finds the monitor gone. */
export const ExitRecord = t.intersection([
  t.type({ exitCode: t.number, signal: t.number, finishedAt: t.string }),
  /** The OOM killer killed in the container's cgroup (its memory.events, watched by the monitor). */
  t.partial({ oomKilled: t.boolean }),
]);
export type ExitRecord = t.TypeOf<typeof ExitRecord>;
