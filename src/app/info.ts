// nook info: what this host gives a rootless container, each fact checked
// rather than assumed (the overlay check mounts one in a user namespace), and
// where nook keeps everything and why there. The probes are shared with
// nook doctor (host-probes.ts), which judges them.
import { resolveManager, readHost } from "../cgroups/manager.js";
import { release } from "node:os";
import * as E from "fp-ts/lib/Either.js";
import { which } from "../lib/which.js";
import { statFs } from "../sys/fs-type.js";
import {
  cgroupFacts,
  currentIdMapPlan,
  defaultNetwork,
  idMapTool,
  networkTools,
  usernsSysctls,
} from "./host-probes.js";
import {
  configFile,
  configuredCgroupManager,
  openStore,
  runtimeLocation,
  storeLocation,
} from "./locations.js";
import { devFuseUsable, driverFor, probeOverlay, type Driver } from "./storage-driver.js";

export interface HostInfo {
  readonly kernel: string;
  readonly userNamespaces: {
    readonly maxUserNamespaces: number | undefined;
    readonly unprivilegedClone: string | undefined;
    readonly apparmorRestrict: string | undefined;
  };
  readonly idMap: {
    readonly kind: "subid" | "single" | "root" | "unavailable";
    readonly uids: string;
    readonly gids: string;
  };
  readonly newuidmap: string;
  readonly storage: {
    readonly root: string;
    /** Why the store is where it is: "--root", "~/.local/share/nook", "... is on nfs ...: moved to local disk". */
    readonly why: string;
    readonly filesystem: string;
    readonly freeBytes: number | undefined;
    readonly freeInodes: number | undefined;
    readonly overlayInUserNamespace: boolean;
    readonly fuseOverlayfs: string | undefined;
    readonly devFuse: boolean;
    readonly driver: Driver;
  };
  readonly runtime: { readonly path: string; readonly why: string } | { readonly error: string };
  readonly config: { readonly path: string; readonly exists: boolean };
  readonly network: {
    readonly pasta: string | undefined;
    readonly slirp4netns: string | undefined;
    /** What --network is when not given. */
    readonly default: string;
    readonly defaultFrom: "config.toml" | "installed tools";
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
  const store = openStore();
  const place = storeLocation();
  const why = E.isRight(place) ? place.right.why : "";
  const fs = statFs(store.root);
  const overlay = await probeOverlay(store.root);
  const tool = await idMapTool("newuidmap");
  const cg = cgroupFacts();
  const tools = networkTools();
  const cfg = configFile();
  const configured = E.isRight(cfg) ? cfg.right.settings.network : undefined;
  const rt = runtimeLocation();
  const ranges = (kind: "uids" | "gids"): string =>
    E.isRight(plan) ? plan.right[kind].map((e) => `${e.inside}:${e.outside}:${e.count}`).join(" ") : "";
  return {
    kernel: release(),
    userNamespaces: usernsSysctls(),
    idMap: {
      kind: E.isRight(plan) ? plan.right.kind : "unavailable",
      uids: ranges("uids"),
      gids: ranges("gids"),
    },
    newuidmap: E.isRight(tool) ? `${tool.right} (setuid or file capabilities)` : tool.left.message,
    storage: {
      root: store.root,
      why,
      filesystem: fs?.type ?? "unknown",
      freeBytes: fs?.freeBytes,
      freeInodes: fs?.freeInodes,
      overlayInUserNamespace: overlay,
      fuseOverlayfs: which("fuse-overlayfs"),
      devFuse: devFuseUsable(),
      driver: driverFor(overlay),
    },
    runtime: E.isRight(rt) ? rt.right : { error: rt.left.message },
    config: E.isRight(cfg) ? { path: cfg.right.path, exists: cfg.right.exists } : { path: "", exists: false },
    network: {
      ...tools,
      default: configured ?? defaultNetwork(tools),
      defaultFrom: configured ? "config.toml" : "installed tools",
    },
    cgroups: cgroupInfo(cg.filesystem),
  };
};

const cgroupInfo = (filesystem: string): HostInfo["cgroups"] => {
  const host = readHost();
  const configured = configuredCgroupManager();
  const choice = resolveManager(host, configured ? { configured } : {});
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

const gib = (n: number | undefined): string =>
  n === undefined ? "unknown" : `${(n / 2 ** 30).toFixed(1)} GiB`;

/** The text form: one "key: value" line each, grouped as podman info groups them. */
export const formatInfo = (i: HostInfo): string =>
  [
    "host:",
    `  kernel: ${i.kernel}`,
    `  user namespaces: max ${i.userNamespaces.maxUserNamespaces ?? "unknown"}${i.userNamespaces.unprivilegedClone !== undefined ? `, kernel.unprivileged_userns_clone=${i.userNamespaces.unprivilegedClone}` : ""}${i.userNamespaces.apparmorRestrict !== undefined ? `, kernel.apparmor_restrict_unprivileged_userns=${i.userNamespaces.apparmorRestrict}` : ""}`,
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
    `  root: ${i.storage.root} (${i.storage.filesystem}; ${gib(i.storage.freeBytes)} free)`,
    `  why there: ${i.storage.why}`,
    `  overlay in a user namespace: ${i.storage.overlayInUserNamespace ? "yes" : "no"}`,
    `  fuse-overlayfs: ${i.storage.fuseOverlayfs ?? "not installed"}${i.storage.devFuse ? "" : " (/dev/fuse not usable)"}`,
    `  driver: ${i.storage.driver}`,
    ...(i.storage.driver === "copy"
      ? ["  copy: each container starts from a full copy of its image (fuse-overlayfs would avoid that)"]
      : []),
    "runtime:",
    ...("error" in i.runtime
      ? [`  path: unusable (${i.runtime.error})`]
      : [`  path: ${i.runtime.path}`, `  why there: ${i.runtime.why}`]),
    `  config file: ${i.config.path}${i.config.exists ? "" : " (none)"}`,
    "network:",
    `  pasta: ${i.network.pasta ?? "not installed"}`,
    `  slirp4netns: ${i.network.slirp4netns ?? "not installed"}`,
    `  default: ${i.network.default}${i.network.defaultFrom === "config.toml" ? " (from the config file)" : ""}${i.network.default === "none" ? " (install passt or slirp4netns for a network)" : ""}`,
    "",
  ].join("\n");
