// nook info: what this host gives a rootless container, each fact checked
// rather than assumed (the overlay check mounts one in a user namespace).
import { chooseManager, readHost } from "../cgroups/manager.js";
import { mkdirSync, readFileSync, statfsSync } from "node:fs";
import { release } from "node:os";
import * as E from "fp-ts/lib/Either.js";
import { which } from "../lib/which.js";
import { checkIdMapTool } from "../runtime/newidmap.js";
import { currentIdMapPlan } from "../runtime/userns.js";
import { devFuseUsable, driverFor, probeOverlay, type Driver } from "./storage-driver.js";
import { defaultStoreRoot } from "../store/store.js";

/** statfs f_type values (linux/magic.h) of the file systems a store or cgroup tree is likely on. */
const FS_TYPES: Record<number, string> = {
  0xef53: "ext4",
  0x58465342: "xfs",
  0x9123683e: "btrfs",
  0x01021994: "tmpfs",
  0x794c7630: "overlay",
  0x6969: "nfs",
  0x0bd00bd0: "lustre",
  0x65735546: "fuse",
  0x2fc12fc1: "zfs",
  0x47504653: "gpfs",
  0x63677270: "cgroup2",
  0x27e0eb: "cgroup",
  0xff534d42: "cifs",
};

const fsType = (path: string): string => {
  try {
    const t = statfsSync(path).type;
    return FS_TYPES[t] ?? `0x${t.toString(16)}`;
  } catch {
    return "unknown";
  }
};

const readTrim = (p: string): string | undefined => {
  try {
    return readFileSync(p, "utf8").trim();
  } catch {
    return undefined;
  }
};

export interface HostInfo {
  readonly kernel: string;
  readonly userNamespaces: {
    readonly maxUserNamespaces: number | undefined;
    readonly unprivilegedClone: string | undefined;
  };
  readonly idMap: {
    readonly kind: "subid" | "single" | "root" | "unavailable";
    readonly uids: string;
    readonly gids: string;
  };
  readonly newuidmap: string;
  readonly storage: {
    readonly root: string;
    readonly filesystem: string;
    readonly overlayInUserNamespace: boolean;
    readonly fuseOverlayfs: string | undefined;
    readonly devFuse: boolean;
    readonly driver: Driver;
  };
  readonly network: {
    readonly pasta: string | undefined;
    readonly slirp4netns: string | undefined;
    /** What --network is when not given. */
    readonly default: "pasta" | "slirp4netns" | "none";
  };
  readonly cgroups: {
    readonly version: "v2" | "v1 or hybrid";
    readonly filesystem: string;
    /** The manager containers get (cgroups/manager.ts), why, and what would give limits when none. */
    readonly manager: "systemd" | "cgroupfs" | "none";
    readonly why: string;
    readonly fix?: string;
    /** The controllers that manager may use. */
    readonly controllers: readonly string[];
  };
}

export const hostInfo = async (): Promise<HostInfo> => {
  const plan = await currentIdMapPlan();
  const root = defaultStoreRoot();
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const overlay = await probeOverlay(root);
  const fuse = which("fuse-overlayfs");
  const devFuse = devFuseUsable();
  const tool = await checkIdMapTool("newuidmap")();
  const cgroupFs = fsType("/sys/fs/cgroup");
  const ranges = (kind: "uids" | "gids"): string =>
    E.isRight(plan) ? plan.right[kind].map((e) => `${e.inside}:${e.outside}:${e.count}`).join(" ") : "";
  return {
    kernel: release(),
    userNamespaces: {
      maxUserNamespaces: Number(readTrim("/proc/sys/user/max_user_namespaces")) || undefined,
      unprivilegedClone: readTrim("/proc/sys/kernel/unprivileged_userns_clone"),
    },
    idMap: {
      kind: E.isRight(plan) ? plan.right.kind : "unavailable",
      uids: ranges("uids"),
      gids: ranges("gids"),
    },
    newuidmap: E.isRight(tool) ? `${tool.right} (setuid or file capabilities)` : tool.left.message,
    storage: {
      root,
      filesystem: fsType(root),
      overlayInUserNamespace: overlay,
      fuseOverlayfs: fuse,
      devFuse,
      driver: driverFor(overlay),
    },
    network: {
      pasta: which("pasta"),
      slirp4netns: which("slirp4netns"),
      default: which("pasta") ? "pasta" : which("slirp4netns") ? "slirp4netns" : "none",
    },
    cgroups: cgroupInfo(cgroupFs),
  };
};

const cgroupInfo = (filesystem: string): HostInfo["cgroups"] => {
  const host = readHost();
  const choice = chooseManager(host, {});
  const c = E.isRight(choice) ? choice.right : { kind: "none" as const, why: choice.left.message };
  return {
    version: host.v2 ? "v2" : "v1 or hybrid",
    filesystem,
    manager: c.kind,
    why: c.why,
    ...("fix" in c && c.fix ? { fix: c.fix } : {}),
    controllers:
      c.kind === "systemd"
        ? (host.userManagerControllers ?? [])
        : c.kind === "cgroupfs"
          ? host.ownControllers
          : [],
  };
};

/** The text form: one "key: value" line each, grouped as podman info groups them. */
export const formatInfo = (i: HostInfo): string =>
  [
    "host:",
    `  kernel: ${i.kernel}`,
    `  user namespaces: max ${i.userNamespaces.maxUserNamespaces ?? "unknown"}${i.userNamespaces.unprivilegedClone !== undefined ? `, kernel.unprivileged_userns_clone=${i.userNamespaces.unprivilegedClone}` : ""}`,
    `  id map: ${i.idMap.kind}${i.idMap.uids ? ` (uids ${i.idMap.uids}; gids ${i.idMap.gids})` : ""}`,
    `  newuidmap: ${i.newuidmap}`,
    `  cgroups: ${i.cgroups.version} (${i.cgroups.filesystem} on /sys/fs/cgroup)`,
    `  cgroup manager: ${i.cgroups.manager}: ${i.cgroups.why}`,
    ...(i.cgroups.manager === "none"
      ? [
          `  limits (--memory, --cpus, --pids-limit...): refused here${i.cgroups.fix ? `; fix: ${i.cgroups.fix}` : ""}`,
        ]
      : [`  controllers for limits: ${i.cgroups.controllers.join(" ") || "none"}`]),
    "storage:",
    `  root: ${i.storage.root} (${i.storage.filesystem})`,
    `  overlay in a user namespace: ${i.storage.overlayInUserNamespace ? "yes" : "no"}`,
    `  fuse-overlayfs: ${i.storage.fuseOverlayfs ?? "not installed"}${i.storage.devFuse ? "" : " (/dev/fuse not usable)"}`,
    `  driver: ${i.storage.driver}`,
    ...(i.storage.driver === "copy"
      ? ["  copy: each container starts from a full copy of its image (fuse-overlayfs would avoid that)"]
      : []),
    "network:",
    `  pasta: ${i.network.pasta ?? "not installed"}`,
    `  slirp4netns: ${i.network.slirp4netns ?? "not installed"}`,
    `  default: ${i.network.default}${i.network.default === "none" ? " (install passt or slirp4netns for a network)" : ""}`,
    "",
  ].join("\n");
