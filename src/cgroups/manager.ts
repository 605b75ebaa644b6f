// Which cgroup manager serves a container, chosen at each start and reported
// by nook info (DESIGN.md: back ends that say what they can enforce):
//   systemd   a transient scope per container in the user manager's
//             nook.slice, over the user bus (sys/sdbus.ts);
//   cgroupfs  a child cgroup per container, written directly, when nook
//             already runs in a cgroup v2 the user owns (a delegated scope,
//             a CI job's cgroup, a batch job with delegation);
//   none      cgroup v1 or hybrid hosts, or no delegation and no user bus:
//             containers run, and any limit fails before the start, naming
//             the flag, the reason and the fix (Podman warns and ignores).
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { attachToUnit, setUnitProperties, startTransientScope, stopUnit, userBusPath } from "../sys/sdbus.js";
import {
  CONTROLLER,
  FLAG,
  cgroupFiles,
  controllersFor,
  limitKeys,
  unitProperties,
  type Limits,
} from "./limits.js";

export const ROOT = "/sys/fs/cgroup";
/** Where nook moves the processes of its own cgroup so that it may have children with controllers. */
const LEAF = "nook-init";

export type ManagerKind = "systemd" | "cgroupfs" | "none";

/** What this host offers, read from /proc and /sys/fs/cgroup. */
export interface CgroupHost {
  readonly v2: boolean;
  readonly uid: number;
  /** nook's own cgroup ("/user.slice/.../session-2.scope"), cgroup v2 only. */
  readonly own?: string;
  /** The controllers nook's cgroup may hand to children (its cgroup.controllers). */
  readonly ownControllers: readonly string[];
  /** nook's cgroup is the user's own: it may make children and move processes there. */
  readonly ownDelegated: boolean;
  /** The user bus's socket, when there is one. */
  readonly userBus?: string;
  /** The controllers systemd's user manager got (user@UID.service's cgroup.controllers). */
  readonly userManagerControllers?: readonly string[];
}

const words = (path: string): string[] => {
  try {
    return readFileSync(path, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
};

/** The cgroup v2 path of a process ("0::PATH" in /proc/PID/cgroup). */
export const cgroupOf = (pid: number | "self"): string | undefined => {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, "utf8")
      .split("\n")
      .find((l) => l.startsWith("0::"));
    return line?.slice(3);
  } catch {
    return undefined;
  }
};

const ownedBy = (dir: string, uid: number): boolean => {
  try {
    if (statSync(dir).uid !== uid) return false;
    accessSync(join(dir, "cgroup.procs"), constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

export const readHost = (env: NodeJS.ProcessEnv = process.env): CgroupHost => {
  const uid = process.getuid?.() ?? 0;
  const v2 = existsSync(join(ROOT, "cgroup.controllers"));
  const bus = userBusPath(env);
  const managerDir = join(ROOT, "user.slice", `user-${uid}.slice`, `user@${uid}.service`);
  if (!v2) return { v2, uid, ownControllers: [], ownDelegated: false, ...(bus ? { userBus: bus } : {}) };
  let own = cgroupOf("self");
  // Our own leaf from an earlier run: the cgroup we were given is its parent.
  if (own !== undefined && basename(own) === LEAF) own = dirname(own);
  const ownDir = own !== undefined ? join(ROOT, own) : undefined;
  return {
    v2,
    uid,
    ...(own !== undefined ? { own } : {}),
    ownControllers: ownDir ? words(join(ownDir, "cgroup.controllers")) : [],
    ownDelegated: ownDir !== undefined && ownedBy(ownDir, uid),
    ...(bus ? { userBus: bus } : {}),
    ...(existsSync(managerDir)
      ? { userManagerControllers: words(join(managerDir, "cgroup.controllers")) }
      : {}),
  };
};

export interface Choice {
  readonly kind: ManagerKind;
  /** Why this one, for nook info and for the errors of limits it cannot enforce. */
  readonly why: string;
  /** What would give the user limits, when kind is none. */
  readonly fix?: string;
}

const DELEGATE_FIX =
  "as root: mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' > /etc/systemd/system/user@.service.d/delegate.conf && systemctl daemon-reload; then log in again";

/** The manager for this start: the one asked for, or the best this host offers. */
export const chooseManager = (
  host: CgroupHost,
  /** manager "none" (config.toml's cgroup_manager) is --cgroups disabled. */
  asked: { readonly manager?: "systemd" | "cgroupfs" | "none"; readonly disabled?: boolean },
): E.Either<NookError, Choice> => {
  const bad = (message: string, hint: string): E.Either<NookError, never> =>
    E.left({ _tag: "CgroupUnavailable", message, hint });
  if (asked.disabled)
    return E.right({ kind: "none", why: "--cgroups disabled", fix: "drop --cgroups disabled" });
  if (asked.manager === "none")
    return E.right({
      kind: "none",
      why: "cgroup_manager = none in config.toml",
      fix: "set cgroup_manager to systemd or cgroupfs in config.toml, or remove it",
    });
  if (!host.v2) {
    const why = "this host has cgroup v1 or hybrid cgroups; rootless limits need cgroup v2 (unified)";
    const fix =
      "boot with systemd.unified_cgroup_hierarchy=1 on the kernel command line (Debian 11 and later default to cgroup v2)";
    if (asked.manager) return bad(`--cgroup-manager ${asked.manager}: ${why}`, fix);
    return E.right({ kind: "none", why, fix });
  }
  if (asked.manager === "systemd" || (asked.manager === undefined && host.userBus)) {
    if (host.userBus) return E.right({ kind: "systemd", why: `systemd user manager at ${host.userBus}` });
    return bad(
      "--cgroup-manager systemd: no systemd user bus (no $DBUS_SESSION_BUS_ADDRESS socket, no $XDG_RUNTIME_DIR/bus)",
      `log in through a session (ssh, login), or: loginctl enable-linger $USER and XDG_RUNTIME_DIR=/run/user/${host.uid}`,
    );
  }
  if (host.ownDelegated)
    return E.right({ kind: "cgroupfs", why: `nook's cgroup ${host.own} is delegated to you` });
  const why = `no systemd user bus, and nook's cgroup ${host.own ?? "(unknown)"} is not delegated to uid ${host.uid}`;
  const fix = `log in through a session or run loginctl enable-linger $USER (then XDG_RUNTIME_DIR=/run/user/${host.uid}), or run nook in a delegated scope: systemd-run --user --scope -p Delegate=yes nook ...`;
  if (asked.manager === "cgroupfs") return bad(`--cgroup-manager cgroupfs: ${why}`, fix);
  return E.right({ kind: "none", why, fix });
};

/**
 * The manager for a start: --cgroup-manager (a choice the host must honour,
 * or an error), else config.toml's cgroup_manager (a preference: where the
 * host cannot honour it there is no cgroup, and a limit fails with the
 * reason), else the best this host offers.
 */
export const resolveManager = (
  host: CgroupHost,
  asked: {
    readonly flag?: "systemd" | "cgroupfs";
    readonly configured?: "systemd" | "cgroupfs" | "none";
    readonly disabled?: boolean;
  },
): E.Either<NookError, Choice> => {
  if (asked.flag || asked.disabled || !asked.configured)
    return chooseManager(host, {
      ...(asked.flag ? { manager: asked.flag } : {}),
      ...(asked.disabled ? { disabled: true } : {}),
    });
  const preferred = chooseManager(host, { manager: asked.configured });
  return E.isRight(preferred)
    ? preferred
    : E.right({
        kind: "none",
        why: `${preferred.left.message.replace(/^--cgroup-manager /, "cgroup_manager = ")} (config.toml)`,
        ...(preferred.left.hint ? { fix: preferred.left.hint } : {}),
      });
};

/** Every limit this manager can enforce here, or one line for the first it cannot. */
export const checkLimits = (host: CgroupHost, choice: Choice, limits: Limits): E.Either<NookError, void> => {
  const keys = limitKeys(limits);
  if (keys.length === 0) return E.right(undefined);
  const first = keys[0]!;
  if (choice.kind === "none")
    return E.left({
      _tag: "CgroupUnavailable",
      message: `${FLAG[first]} cannot be enforced: ${choice.why}`,
      ...(choice.fix ? { hint: choice.fix } : {}),
    });
  const have = choice.kind === "systemd" ? host.userManagerControllers : host.ownControllers;
  // systemd's manager cgroup unknown (not the usual path): systemd says so itself when it refuses.
  if (have === undefined) return E.right(undefined);
  const missing = keys.find((k) => !have.includes(CONTROLLER[k]));
  if (missing === undefined) return E.right(undefined);
  const where = choice.kind === "systemd" ? "to your systemd user manager" : `to nook's cgroup ${host.own}`;
  return E.left({
    _tag: "CgroupUnavailable",
    message: `${FLAG[missing]} cannot be enforced: controller ${CONTROLLER[missing]} is not delegated ${where} (uid ${host.uid}; it has: ${have.join(" ") || "none"})`,
    hint:
      choice.kind === "systemd"
        ? DELEGATE_FIX
        : "ask for the controller when the cgroup is made (systemd-run -p Delegate=yes, or the batch system's delegation)",
  });
};

export interface Placement {
  readonly manager: "systemd" | "cgroupfs";
  /** The cgroup under /sys/fs/cgroup. */
  readonly path: string;
  /** systemd: the scope's name; cgroupfs: "". */
  readonly unit: string;
}

const failed = (message: string, hint?: string): E.Either<NookError, never> =>
  E.left({ _tag: "CgroupFailed", message, ...(hint ? { hint } : {}) });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** systemd: a scope nook-ID.scope holding `pid`, its limits as properties; resolves once pid is in it. */
const placeSystemd = async (
  id: string,
  name: string,
  limits: Limits,
  pid: number,
): Promise<E.Either<NookError, Placement>> => {
  const unit = `nook-${id}.scope`;
  const start = () =>
    startTransientScope(unit, "nook.slice", `nook container ${name}`, [pid], unitProperties(limits));
  let r = await start();
  // A scope of an earlier run that systemd has not let go of yet.
  if (E.isLeft(r) && r.left.name === "org.freedesktop.systemd1.UnitExists") {
    await stopUnit(unit);
    await sleep(50);
    r = await start();
  }
  if (E.isLeft(r)) return failed(`create the systemd scope ${unit}: ${r.left.message} (${r.left.name})`);
  // The job is done when pid is in the scope's cgroup.
  for (let i = 0; i < 500; i++) {
    const path = cgroupOf(pid);
    if (path?.endsWith(`/${unit}`)) return E.right({ manager: "systemd", path, unit });
    if (path === undefined) return failed(`the container's process ${pid} went before its scope was made`);
    await sleep(10);
  }
  return failed(`systemd did not move the container into ${unit} within 5 s`);
};

const write = (file: string, value: string): E.Either<NookError, void> => {
  try {
    writeFileSync(file, value);
    return E.right(undefined);
  } catch (e) {
    return failed(`write ${value} to ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
};

/** The processes of `dir` moved into its child LEAF, so that dir may hand controllers to children. */
const vacate = (dir: string): E.Either<NookError, void> => {
  const pids = words(join(dir, "cgroup.procs"));
  if (pids.length === 0) return E.right(undefined);
  mkdirSync(join(dir, LEAF), { recursive: true });
  for (const p of pids) {
    try {
      writeFileSync(join(dir, LEAF, "cgroup.procs"), p);
    } catch (e) {
      // A process that has exited meanwhile is fine; one we may not move is not.
      if ((e as NodeJS.ErrnoException).code !== "ESRCH")
        return failed(
          `move process ${p} out of ${dir} (cgroups with controllers hold no processes): ${(e as NodeJS.ErrnoException).code}`,
        );
    }
  }
  return E.right(undefined);
};

/** The container's cgroup path under nook's own, for cgroupfs. */
export const cgroupfsPath = (host: CgroupHost, id: string): string => `${host.own}/nook-${id.slice(0, 12)}`;

const placeCgroupfs = (
  host: CgroupHost,
  id: string,
  limits: Limits,
  pid: number,
): E.Either<NookError, Placement> => {
  const base = join(ROOT, host.own ?? "");
  const wanted = controllersFor(limits);
  const enabled = words(join(base, "cgroup.subtree_control"));
  const toEnable = wanted.filter((c) => !enabled.includes(c));
  if (toEnable.length > 0) {
    const v = vacate(base);
    if (E.isLeft(v)) return v;
    const w = write(join(base, "cgroup.subtree_control"), toEnable.map((c) => `+${c}`).join(" "));
    if (E.isLeft(w)) return w;
  }
  const path = cgroupfsPath(host, id);
  const dir = join(ROOT, path);
  removeCgroupDir(dir);
  try {
    mkdirSync(dir);
  } catch (e) {
    return failed(`create the cgroup ${dir}: ${(e as NodeJS.ErrnoException).code}`);
  }
  for (const [file, value] of cgroupFiles(limits)) {
    const w = write(join(dir, file), value);
    if (E.isLeft(w)) {
      removeCgroupDir(dir);
      return w;
    }
  }
  const moved = write(join(dir, "cgroup.procs"), String(pid));
  return E.isLeft(moved) ? moved : E.right({ manager: "cgroupfs", path, unit: "" });
};

/** Puts a container's first process in a cgroup of its own with the limits set. */
export const place = async (
  host: CgroupHost,
  choice: Choice,
  container: { readonly id: string; readonly name: string },
  limits: Limits,
  pid: number,
): Promise<E.Either<NookError, Placement | undefined>> => {
  if (choice.kind === "none") return E.right(undefined);
  return choice.kind === "systemd"
    ? placeSystemd(container.id, container.name, limits, pid)
    : placeCgroupfs(host, container.id, limits, pid);
};

/** Moves a process (nook exec's) into a running container's cgroup. */
export const joinCgroup = async (placement: Placement, pid: number): Promise<E.Either<NookError, void>> => {
  const direct = write(join(ROOT, placement.path, "cgroup.procs"), String(pid));
  if (E.isRight(direct) || placement.manager !== "systemd") return direct;
  // Moving from the caller's cgroup needs write access to a common ancestor
  // the user may not own (its login session's slice): systemd moves it for us.
  const r = await attachToUnit(placement.unit, [pid]);
  return E.isLeft(r)
    ? failed(`join ${placement.unit}: ${r.left.message} (${r.left.name})`)
    : E.right(undefined);
};

/** An empty cgroup directory, and the empty ones below it, removed; anything else is left. */
export const removeCgroupDir = (dir: string): void => {
  try {
    rmdirSync(dir);
  } catch {
    // absent, or processes still in it
  }
};

/** After the container's run: cgroupfs cgroups are ours to remove; systemd collects its scopes. */
export const release = async (placement: Placement): Promise<void> => {
  if (placement.manager === "cgroupfs") removeCgroupDir(join(ROOT, placement.path));
  else if (existsSync(join(ROOT, placement.path))) await stopUnit(placement.unit);
};

/** New limits for a running container's cgroup (nook update). */
export const applyLimits = async (
  placement: Placement,
  limits: Limits,
): Promise<E.Either<NookError, void>> => {
  if (placement.manager === "systemd") {
    const r = await setUnitProperties(placement.unit, unitProperties(limits));
    return E.isLeft(r)
      ? failed(`update ${placement.unit}: ${r.left.message} (${r.left.name})`)
      : E.right(undefined);
  }
  for (const [file, value] of cgroupFiles(limits)) {
    const w = write(join(ROOT, placement.path, file), value);
    if (E.isLeft(w)) return w;
  }
  return E.right(undefined);
};
