// nook doctor: one check per prerequisite of rootless containers, each ok,
// warn or fail, with the evidence it rests on and a fix to copy and paste.
// The facts come from the same probes as nook info (host-probes.ts); judging
// them is pure (`judge`), so that each verdict is testable on any host.
// A failed check that is `required` means nook cannot run containers here;
// a warning names something nook works around (at a cost it states).
import { statSync } from "node:fs";
import { release } from "node:os";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { which } from "../lib/which.js";
import type { IdMapPlan } from "../runtime/idmap.js";
import type { SubidSource } from "../runtime/subid.js";
import type { Place, StorePlace } from "../store/location.js";
import { statFs, type FsStat } from "../sys/fs-type.js";
import { ownDir } from "../sys/own-dir.js";
import { helperPath } from "../runtime/helper.js";
import {
  cgroupFacts,
  currentIdMapPlan,
  currentOwner,
  describeRanges,
  devUsable,
  idMapTool,
  lingerFacts,
  networkTools,
  openFilesLimit,
  overlappingOwners,
  singleIdPlan,
  subordinateIds,
  tryUserns,
  usernsSysctls,
  type CgroupFacts,
  type NetworkTools,
  type UsernsSysctls,
  userBus,
} from "./host-probes.js";
import { openStore, runtimeDir, runtimeLocation, storeLocation } from "./locations.js";
import { probeOverlay } from "./storage-driver.js";

export type Status = "ok" | "warn" | "fail";

export interface Check {
  /** Stable name, for scripts: "userns", "newuidmap", "store"... */
  readonly id: string;
  readonly title: string;
  readonly status: Status;
  /** Whether nook cannot run containers while this fails. */
  readonly required: boolean;
  /** What was found, and where. */
  readonly evidence: string;
  /** What to do about it, as commands to copy (absent when ok). */
  readonly fix?: string;
}

export interface DoctorFacts {
  readonly user: string;
  readonly uid: number;
  readonly kernel: string;
  readonly sysctls: UsernsSysctls;
  /** A user namespace with the single-id map (no newuidmap involved). */
  readonly userns: E.Either<string, void>;
  readonly helper: { readonly path: string; readonly executable: boolean };
  readonly subids: SubidSource;
  /** Other users' ranges overlapping ours: [file, "owner:start:count"]. */
  readonly overlaps: readonly (readonly [string, string])[];
  readonly plan: E.Either<NookError, IdMapPlan>;
  readonly newuidmap: E.Either<NookError, string>;
  readonly newgidmap: E.Either<NookError, string>;
  /** A user namespace with the full map (newuidmap and newgidmap for ranges); undefined: not tried. */
  readonly idmap: E.Either<string, void> | undefined;
  readonly xdgRuntimeDir: string | undefined;
  readonly xdgVerdict: ReturnType<typeof ownDir> | undefined;
  readonly xdgMode: number | undefined;
  readonly runtime: E.Either<string, Place>;
  readonly store: E.Either<string, StorePlace>;
  readonly storeFs: FsStat | undefined;
  /** undefined: not tried (no usable store to try it in). */
  readonly overlay: boolean | undefined;
  readonly devFuse: boolean;
  readonly fuseOverlayfs: string | undefined;
  readonly network: NetworkTools;
  readonly devNetTun: boolean;
  readonly cgroups: CgroupFacts;
  readonly bus: { readonly path: string; readonly from: string } | undefined;
  readonly linger: { readonly systemd: boolean; readonly linger: boolean };
  readonly nofile: { readonly soft: number | "unlimited"; readonly hard: number | "unlimited" } | undefined;
}

/** The runtime directory nook would use, made (0700) and checked to be the user's. */
const runtimeFact = (): E.Either<string, Place> => {
  const place = runtimeLocation();
  if (E.isLeft(place)) return E.left(place.left.message);
  const made = runtimeDir();
  return E.isLeft(made) ? E.left(made.left.message) : E.right(place.right);
};

/** Everything doctor judges, read or tried on this host now. */
export const gatherFacts = async (): Promise<DoctorFacts> => {
  const owner = currentOwner();
  const user = owner.name ?? String(owner.id);
  const subids = await subordinateIds();
  const mine = (file: string, ranges: SubidSource["uids"]): (readonly [string, string])[] =>
    overlappingOwners(file, ranges, owner.name, owner.id).map((o) => [file, o] as const);
  const userns = await tryUserns(singleIdPlan());
  const plan = await currentIdMapPlan();
  const idmap =
    E.isRight(plan) && E.isRight(userns)
      ? E.mapLeft((e: NookError) => e.message)(await tryUserns(plan.right))
      : undefined;
  const store = storeLocation();
  let scratch: string | undefined;
  try {
    scratch = E.isRight(store) ? openStore().root : undefined;
  } catch {
    scratch = undefined;
  }
  const xdg = process.env.XDG_RUNTIME_DIR;
  let xdgMode: number | undefined;
  try {
    xdgMode = xdg ? statSync(xdg).mode & 0o7777 : undefined;
  } catch {
    xdgMode = undefined;
  }
  const helper = helperPath();
  return {
    user,
    uid: owner.id,
    kernel: release(),
    sysctls: usernsSysctls(),
    userns: E.mapLeft((e: NookError) => e.message)(userns),
    helper: { path: helper, executable: which(helper) !== undefined },
    subids,
    overlaps: [...mine("/etc/subuid", subids.uids), ...mine("/etc/subgid", subids.gids)],
    plan,
    newuidmap: await idMapTool("newuidmap"),
    newgidmap: await idMapTool("newgidmap"),
    idmap,
    xdgRuntimeDir: xdg,
    xdgVerdict: xdg?.startsWith("/") ? ownDir(xdg) : undefined,
    xdgMode,
    runtime: runtimeFact(),
    store: E.mapLeft((e: NookError) => e.message)(store),
    storeFs: E.isRight(store) ? statFs(store.right.path) : undefined,
    overlay: scratch ? await probeOverlay(scratch) : undefined,
    devFuse: devUsable("/dev/fuse"),
    fuseOverlayfs: which("fuse-overlayfs"),
    network: networkTools(),
    devNetTun: devUsable("/dev/net/tun"),
    cgroups: cgroupFacts(),
    bus: userBus(),
    linger: lingerFacts(owner.name),
    nofile: openFilesLimit(),
  };
};

const GIB = 2 ** 30;
const gib = (n: number): string => `${(n / GIB).toFixed(1)} GiB`;

const check = (
  id: string,
  title: string,
  required: boolean,
  status: Status,
  evidence: string,
  fix?: string,
): Check => ({ id, title, status, required, evidence, ...(status !== "ok" && fix ? { fix } : {}) });

const APPARMOR_FIX = (helper: string): string =>
  [
    "as root, an AppArmor profile that lets nook-helper create user namespaces:",
    "cat > /etc/apparmor.d/nook-helper <<'EOF'",
    "abi <abi/4.0>,",
    "include <tunables/global>",
    `profile nook-helper ${helper} flags=(unconfined) {`,
    "  userns,",
    "}",
    "EOF",
    "apparmor_parser -r /etc/apparmor.d/nook-helper",
  ].join("\n");

const usernsCheck = (f: DoctorFacts): Check => {
  const s = f.sysctls;
  const knobs = [
    `user.max_user_namespaces=${s.maxUserNamespaces ?? "absent"}`,
    ...(s.unprivilegedClone !== undefined ? [`kernel.unprivileged_userns_clone=${s.unprivilegedClone}`] : []),
    ...(s.apparmorRestrict !== undefined
      ? [`kernel.apparmor_restrict_unprivileged_userns=${s.apparmorRestrict}`]
      : []),
  ].join(", ");
  const t = (status: Status, evidence: string, fix?: string): Check =>
    check("userns", "unprivileged user namespaces", true, status, evidence, fix);
  if (!f.helper.executable)
    return t(
      "fail",
      `${knobs}; nook-helper is not at ${f.helper.path}`,
      "build it: npm run build (needs gcc and libc6-dev)",
    );
  if (E.isRight(f.userns)) return t("ok", `${knobs}; nook-helper made one with your own id`);
  const tried = `${knobs}; creating one failed: ${f.userns.left}`;
  if (s.maxUserNamespaces === 0)
    return t(
      "fail",
      tried,
      "as root: sysctl -w user.max_user_namespaces=28633 && echo user.max_user_namespaces=28633 > /etc/sysctl.d/90-userns.conf",
    );
  if (s.unprivilegedClone === "0")
    return t(
      "fail",
      tried,
      "as root: sysctl -w kernel.unprivileged_userns_clone=1 && echo kernel.unprivileged_userns_clone=1 > /etc/sysctl.d/90-userns.conf",
    );
  if (s.apparmorRestrict === "1") return t("fail", tried, APPARMOR_FIX(f.helper.path));
  return t(
    "fail",
    tried,
    "the kernel refuses unprivileged user namespaces (a container or a seccomp policy around you?): ask your administrator",
  );
};

const subidCheck = (f: DoctorFacts): Check => {
  const { uids, gids, from } = f.subids;
  const t = (status: Status, evidence: string, fix?: string): Check =>
    check(
      "subids",
      "subordinate uid and gid ranges",
      uids.length > 0 !== gids.length > 0,
      status,
      evidence,
      fix,
    );
  const add = `as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${f.user} (a range no other user has: see /etc/subuid)`;
  if (uids.length === 0 && gids.length === 0)
    return t(
      "warn",
      `${f.user} has no ranges (looked in ${from}): containers get only your own id, as root; files an image gives other owners become yours`,
      add,
    );
  if (gids.length === 0)
    return t(
      "fail",
      `${f.user} has uids ${describeRanges(uids)} but no gid range (${from})`,
      add.replace("--add-subuids 100000-165535 ", ""),
    );
  if (uids.length === 0)
    return t(
      "fail",
      `${f.user} has gids ${describeRanges(gids)} but no uid range (${from})`,
      add.replace(" --add-subgids 100000-165535", ""),
    );
  const evidence = `uids ${describeRanges(uids)}, gids ${describeRanges(gids)} (from ${from})`;
  if (f.overlaps.length > 0)
    return {
      ...check(
        "subids",
        "subordinate uid and gid ranges",
        true,
        "fail",
        `${evidence}; they overlap ${f.overlaps.map(([file, o]) => `${o} in ${file}`).join(", ")}: newuidmap refuses overlapping ranges`,
        `as root: give ${f.user} a range of its own (usermod --del-subuids/--add-subuids, the same for gids)`,
      ),
    };
  const fewest = Math.min(...[uids, gids].map((r) => r.reduce((n, x) => n + x.count, 0)));
  if (fewest < 65536)
    return t(
      "warn",
      `${evidence}: fewer than 65536 ids, so files an image gives higher ids (nobody is 65534) cannot keep their owners`,
      add,
    );
  return t("ok", evidence);
};

const toolCheck = (f: DoctorFacts, tool: "newuidmap" | "newgidmap"): Check => {
  const found = tool === "newuidmap" ? f.newuidmap : f.newgidmap;
  const needed = f.subids.uids.length > 0 && f.subids.gids.length > 0;
  const title = `${tool} (setuid or file capabilities)`;
  if (E.isRight(found)) return check(tool, title, needed, "ok", `${found.right} may write id maps`);
  const hint = found.left.hint ?? "";
  if (!needed)
    return check(tool, title, false, "ok", `not needed without subordinate ranges (${found.left.message})`);
  return check(tool, title, true, "fail", found.left.message, hint);
};

const idmapCheck = (f: DoctorFacts): Check => {
  const t = (status: Status, evidence: string, fix?: string): Check =>
    check("idmap", "your containers' id map", true, status, evidence, fix);
  if (E.isLeft(f.plan)) return t("fail", f.plan.left.message, f.plan.left.hint);
  const map = f.plan.right.uids.map((e) => `${e.inside}:${e.outside}:${e.count}`).join(" ");
  if (f.idmap === undefined)
    return t(
      "fail",
      `not tried: user namespaces do not work (uid map would be ${map})`,
      "see the user namespaces check",
    );
  if (E.isLeft(f.idmap))
    return t(
      "fail",
      `uid map ${map}: ${f.idmap.left}`,
      "check that your ranges in /etc/subuid and /etc/subgid are your own and that newuidmap/newgidmap work",
    );
  return t(
    "ok",
    `a namespace was mapped ${f.plan.right.kind === "subid" ? "with newuidmap and newgidmap" : "directly"}: uids ${map}`,
  );
};

const xdgCheck = (f: DoctorFacts): Check => {
  const t = (status: Status, evidence: string, fix?: string): Check =>
    check("xdg-runtime-dir", "XDG_RUNTIME_DIR", false, status, evidence, fix);
  const fallback = E.isRight(f.runtime) ? f.runtime.right.path : "a private directory in /tmp";
  const x = f.xdgRuntimeDir;
  if (!x)
    return t(
      "warn",
      `not set (no login session: su, runuser, setpriv, cron, a batch or CI job); nook uses ${fallback}`,
      "nothing is needed; for a login session log in with ssh or `machinectl shell USER@`, which set it",
    );
  const v = f.xdgVerdict;
  if (v?.kind === "foreign")
    return t(
      "warn",
      `${x}: ${v.path === x ? "" : `${v.path} `}${v.reason}, so nook ignores it and uses ${fallback}`,
      `unset XDG_RUNTIME_DIR, or set it to your own: export XDG_RUNTIME_DIR=/run/user/${f.uid}`,
    );
  if (v?.kind === "creatable")
    return t("warn", `${x} does not exist; nook uses ${fallback}`, "unset XDG_RUNTIME_DIR");
  if (f.xdgMode !== 0o700)
    return t(
      "warn",
      `${x} is yours with mode ${f.xdgMode?.toString(8) ?? "?"} (0700 expected)`,
      `chmod 0700 ${x}`,
    );
  return t("ok", `${x} is yours, mode 0700`);
};

const runtimeCheck = (f: DoctorFacts): Check =>
  E.isRight(f.runtime)
    ? check(
        "runtime-dir",
        "nook's runtime directory",
        true,
        "ok",
        `${f.runtime.right.path}${f.runtime.right.why ? ` (${f.runtime.right.why})` : ""}`,
      )
    : check(
        "runtime-dir",
        "nook's runtime directory",
        true,
        "fail",
        f.runtime.left,
        "remove the directory named (it is not yours), or choose another with --runroot DIR",
      );

const storeCheck = (f: DoctorFacts): Check => {
  const t = (status: Status, evidence: string, fix?: string): Check =>
    check("store", "nook's store", true, status, evidence, fix);
  if (E.isLeft(f.store))
    return t("fail", f.store.left, "choose a directory of yours: nook --root DIR ..., or NOOK_STORAGE=DIR");
  const s = f.store.right;
  const fs = f.storeFs;
  if (!fs) return t("fail", `${s.path}: statfs failed`, "choose another directory with --root DIR");
  const evidence = `${s.path} (${s.why}) on ${fs.type}: ${gib(fs.freeBytes)} and ${fs.freeInodes} inodes free`;
  if (fs.network)
    return t(
      "warn",
      `${evidence}; ${fs.type} cannot hold files of subordinate ids nor overlay upper dirs reliably`,
      `use local disk: nook --root /var/tmp/nook-${f.uid} ..., or root = "/var/tmp/nook-${f.uid}" in ~/.config/nook/config.toml`,
    );
  const move = `free space, or move the store: nook --root DIR ... (nook system reset empties it)`;
  if (fs.freeBytes < 100 * 2 ** 20) return t("fail", `${evidence}: less than 100 MiB`, move);
  if (fs.freeBytes < GIB) return t("warn", `${evidence}: less than 1 GiB, little for images`, move);
  if (fs.totalInodes > 0 && fs.freeInodes < 10_000) return t("warn", `${evidence}: few inodes left`, move);
  return t("ok", evidence);
};

const overlayCheck = (f: DoctorFacts): Check => {
  const t = (status: Status, evidence: string, fix?: string): Check =>
    check("overlay", "kernel overlayfs in a user namespace", false, status, evidence, fix);
  if (f.overlay === undefined)
    return t("warn", "not tried: no usable store to try it in", "see the store check");
  return f.overlay
    ? t("ok", `Linux ${f.kernel} mounted one as root of a user namespace`)
    : t(
        "warn",
        `Linux ${f.kernel} refused to mount one as root of a user namespace (5.11 or later allows it); nook uses fuse-overlayfs or copies`,
        "install fuse-overlayfs (apt-get install fuse-overlayfs), or a kernel of 5.11 or later",
      );
};

const fuseChecks = (f: DoctorFacts): Check[] => [
  f.devFuse
    ? check("dev-fuse", "/dev/fuse", false, "ok", "/dev/fuse is a character device you may read and write")
    : check(
        "dev-fuse",
        "/dev/fuse",
        false,
        "warn",
        "/dev/fuse is missing or not readable and writable by you: no fuse-overlayfs (needed for --userns keep-id with ranges, and where kernel overlay fails)",
        "as root: modprobe fuse; chmod 0666 /dev/fuse",
      ),
  f.fuseOverlayfs
    ? check("fuse-overlayfs", "fuse-overlayfs", false, "ok", f.fuseOverlayfs)
    : check(
        "fuse-overlayfs",
        "fuse-overlayfs",
        false,
        "warn",
        "not found in PATH: --userns keep-id with ranges cannot run, and without kernel overlay every container copies its image",
        "apt-get install fuse-overlayfs (Debian, Ubuntu) or dnf install fuse-overlayfs (Fedora, RHEL)",
      ),
];

const driverCheck = (f: DoctorFacts): Check => {
  const driver = f.overlay ? "overlay" : f.fuseOverlayfs && f.devFuse ? "fuse-overlayfs" : "copy";
  return driver === "copy"
    ? check(
        "storage-driver",
        "storage driver",
        false,
        "warn",
        "copy: each container starts from a full copy of its image (slow, and costly in disk)",
        "install fuse-overlayfs and make /dev/fuse usable (see above)",
      )
    : check("storage-driver", "storage driver", false, "ok", driver);
};

const networkChecks = (f: DoctorFacts): Check[] => {
  const { pasta, slirp4netns } = f.network;
  const found = [pasta && `pasta ${pasta}`, slirp4netns && `slirp4netns ${slirp4netns}`]
    .filter(Boolean)
    .join(", ");
  return [
    found
      ? check(
          "network",
          "pasta or slirp4netns",
          false,
          "ok",
          `${found}; the default is ${pasta ? "pasta" : "slirp4netns"}`,
        )
      : check(
          "network",
          "pasta or slirp4netns",
          false,
          "warn",
          "neither is in PATH: containers get --network none (only lo) unless you give --network host",
          "apt-get install passt (or slirp4netns)",
        ),
    f.devNetTun
      ? check("dev-net-tun", "/dev/net/tun", false, "ok", "a character device you may read and write")
      : check(
          "dev-net-tun",
          "/dev/net/tun",
          false,
          "warn",
          "missing or not readable and writable by you: pasta and slirp4netns cannot make the container's interface",
          "as root: modprobe tun; chmod 0666 /dev/net/tun",
        ),
  ];
};

const DELEGATE_FIX = [
  "as root, delegate the controllers to user sessions:",
  "mkdir -p /etc/systemd/system/user@.service.d",
  "printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' > /etc/systemd/system/user@.service.d/delegate.conf",
  "systemctl daemon-reload   # then log out and in again",
].join("\n");

const cgroupChecks = (f: DoctorFacts): Check[] => {
  const c = f.cgroups;
  if (c.version !== "v2")
    return [
      check(
        "cgroups",
        "cgroup version",
        false,
        "warn",
        `${c.filesystem} on /sys/fs/cgroup: cgroup v1 (or hybrid), which gives unprivileged users no resource limits`,
        "boot with systemd.unified_cgroup_hierarchy=1 on the kernel command line (cgroup v2)",
      ),
      check(
        "cgroup-delegation",
        "delegated cgroup controllers",
        false,
        "warn",
        "none: delegation needs cgroup v2",
        "see the cgroup version check",
      ),
    ];
  const own = c.own ?? "unknown";
  const d = c.delegated;
  const wanted = ["cpu", "memory", "pids"];
  const missing = d ? wanted.filter((w) => !d.controllers.includes(w)) : wanted;
  return [
    check("cgroups", "cgroup version", false, "ok", `cgroup2 on /sys/fs/cgroup (v2); you are in ${own}`),
    !d
      ? check(
          "cgroup-delegation",
          "delegated cgroup controllers",
          false,
          "warn",
          `no user@${f.uid}.service cgroup: systemd delegates none to you (no user manager: no login session, or no systemd)`,
          "loginctl enable-linger USER (as root), or log in through a session manager",
        )
      : !d.owned || missing.length > 0
        ? check(
            "cgroup-delegation",
            "delegated cgroup controllers",
            false,
            "warn",
            `${d.path}${d.owned ? "" : " is not yours"}: controllers ${d.controllers.join(" ") || "none"} (subtree_control ${d.subtreeControl.join(" ") || "empty"})${missing.length ? `; missing ${missing.join(", ")}: limits on them cannot be set` : ""}`,
            DELEGATE_FIX,
          )
        : check(
            "cgroup-delegation",
            "delegated cgroup controllers",
            false,
            "ok",
            `${d.path}: controllers ${d.controllers.join(" ")} (subtree_control ${d.subtreeControl.join(" ") || "empty"})`,
          ),
  ];
};

const sessionChecks = (f: DoctorFacts): Check[] => [
  f.bus
    ? check("user-bus", "systemd user bus", false, "ok", `${f.bus.path} (from ${f.bus.from})`)
    : check(
        "user-bus",
        "systemd user bus",
        false,
        "warn",
        "no socket at $DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus: the systemd cgroup manager cannot be used without it",
        `as root: loginctl enable-linger ${f.user}; then export XDG_RUNTIME_DIR=/run/user/${f.uid}`,
      ),
  !f.linger.systemd
    ? check(
        "linger",
        "linger",
        false,
        "ok",
        "this host does not run systemd (no /run/systemd/system): nothing ends your processes at logout",
      )
    : f.linger.linger
      ? check(
          "linger",
          "linger",
          false,
          "ok",
          `/var/lib/systemd/linger/${f.user} exists: detached containers outlive your sessions`,
        )
      : check(
          "linger",
          "linger",
          false,
          "warn",
          `no /var/lib/systemd/linger/${f.user}: systemd may end detached containers when your last session ends`,
          `loginctl enable-linger ${f.user}`,
        ),
];

const nofileCheck = (f: DoctorFacts): Check => {
  const t = (status: Status, evidence: string, fix?: string): Check =>
    check("nofile", "open files limit", false, status, evidence, fix);
  if (!f.nofile) return t("warn", "/proc/self/limits has no open files line", "check /proc/self/limits");
  const { soft, hard } = f.nofile;
  const evidence = `soft ${soft}, hard ${hard} (containers get the hard limit)`;
  return hard !== "unlimited" && hard < 4096
    ? t(
        "warn",
        `${evidence}: fewer than 4096, and only root can raise the hard limit`,
        `as root, in /etc/security/limits.conf: ${f.user} hard nofile 1048576`,
      )
    : t("ok", evidence);
};

/** The verdicts, in the order a person fixes things: the kernel, ids, directories, storage, network, cgroups. */
export const judge = (f: DoctorFacts): Check[] => [
  usernsCheck(f),
  subidCheck(f),
  toolCheck(f, "newuidmap"),
  toolCheck(f, "newgidmap"),
  idmapCheck(f),
  xdgCheck(f),
  runtimeCheck(f),
  storeCheck(f),
  overlayCheck(f),
  ...fuseChecks(f),
  driverCheck(f),
  ...networkChecks(f),
  ...cgroupChecks(f),
  ...sessionChecks(f),
  nofileCheck(f),
];

/** Whether containers can run: no required check failed. */
export const healthy = (checks: readonly Check[]): boolean =>
  !checks.some((c) => c.required && c.status === "fail");

const indent = (text: string): string => text.split("\n").join("\n       ");

/** One block per check: status, title and evidence, then the fix indented below it. */
export const formatChecks = (checks: readonly Check[]): string => {
  const lines = checks.map(
    (c) => `${c.status.padEnd(5)}  ${c.title}: ${c.evidence}${c.fix ? `\n       fix: ${indent(c.fix)}` : ""}`,
  );
  const count = (s: Status): number => checks.filter((c) => c.status === s).length;
  const failedRequired = checks.filter((c) => c.required && c.status === "fail").length;
  const summary = `${count("ok")} ok, ${count("warn")} ${count("warn") === 1 ? "warning" : "warnings"}, ${count("fail")} failed${failedRequired ? ` (${failedRequired} required: nook cannot run containers until they are fixed)` : ""}`;
  return `${lines.join("\n")}\n\n${summary}\n`;
};

export const runDoctor = async (): Promise<Check[]> => judge(await gatherFacts());
