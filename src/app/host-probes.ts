// What the host gives rootless containers, each fact read or tried rather
// than assumed: shared by nook info (the facts) and nook doctor (the facts
// judged, with fixes). Probes that start a user namespace run the real
// helper; the rest read /proc, /sys and the file system. None changes the
// host, apart from a scratch directory in the store that the overlay probe
// removes again.
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { which } from "../lib/which.js";
import type { IdMapPlan } from "../runtime/idmap.js";
import { checkIdMapTool, type IdMapTool } from "../runtime/newidmap.js";
import { currentLimits } from "../runtime/rlimit.js";
import { subidSource, type IdRange, type SubidSource } from "../runtime/subid.js";
import { currentIdMapPlan, currentOwner, unshareExec } from "../runtime/userns.js";
import { fsTypeName } from "../sys/fs-type.js";
import { statfsSync } from "node:fs";

export const readTrim = (p: string): string | undefined => {
  try {
    return readFileSync(p, "utf8").trim();
  } catch {
    return undefined;
  }
};

/** A sysctl's value ("user.max_user_namespaces"), or undefined where the kernel has no such knob. */
export const sysctl = (name: string): string | undefined => readTrim(`/proc/sys/${name.replace(/\./g, "/")}`);

export interface UsernsSysctls {
  readonly maxUserNamespaces: number | undefined;
  /** Debian's and Ubuntu's older patch: 0 forbids unprivileged user namespaces. */
  readonly unprivilegedClone: string | undefined;
  /** Ubuntu 23.10+: 1 lets only programs with an AppArmor profile that allows it create them. */
  readonly apparmorRestrict: string | undefined;
}

export const usernsSysctls = (): UsernsSysctls => {
  const max = sysctl("user.max_user_namespaces");
  return {
    maxUserNamespaces: max === undefined || !/^\d+$/.test(max) ? undefined : Number(max),
    unprivilegedClone: sysctl("kernel.unprivileged_userns_clone"),
    apparmorRestrict: sysctl("kernel.apparmor_restrict_unprivileged_userns"),
  };
};

/** Runs /bin/true as root of a new user namespace mapped by `plan`: the helper, the map and the kernel together. */
export const tryUserns = async (plan: IdMapPlan): Promise<E.Either<NookError, void>> => {
  const started = await unshareExec(plan, ["/bin/true"], [], { stdin: "ignore" })();
  if (E.isLeft(started)) return started;
  const status = await started.right.exited;
  return status.code === 0
    ? E.right(undefined)
    : E.left({
        _tag: "ProbeFailed",
        message: `/bin/true in the namespace exited with ${status.code ?? status.signal}`,
      });
};

/** The single-id map an unprivileged process may write itself: user namespaces alone, without newuidmap. */
export const singleIdPlan = (): IdMapPlan => {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return {
    kind: "single",
    uids: [{ inside: 0, outside: uid, count: 1 }],
    gids: [{ inside: 0, outside: gid, count: 1 }],
  };
};

export { currentIdMapPlan, currentOwner };

export const subordinateIds = (): Promise<SubidSource> => subidSource(currentOwner());

export const describeRanges = (ranges: readonly IdRange[]): string =>
  ranges.map((r) => `${r.start}-${r.start + r.count - 1} (${r.count})`).join(", ");

/** Another user's ranges that overlap ours in a subid file: newuidmap then fails with EINVAL. */
export const overlappingOwners = (
  file: string,
  mine: readonly IdRange[],
  me: string | undefined,
  uid: number,
): string[] => {
  const text = readTrim(file) ?? "";
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const [owner = "", start = "", count = ""] = line.trim().split(":");
    if (owner === "" || owner.startsWith("#") || owner === me || owner === String(uid)) continue;
    const s = Number(start);
    const c = Number(count);
    if (!Number.isInteger(s) || !Number.isInteger(c) || c <= 0) continue;
    if (mine.some((r) => s < r.start + r.count && r.start < s + c)) out.push(`${owner}:${start}:${count}`);
  }
  return out;
};

export const idMapTool = (tool: IdMapTool) => checkIdMapTool(tool)();

export const devUsable = (path: string): boolean => {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return statSync(path).isCharacterDevice();
  } catch {
    return false;
  }
};

export interface NetworkTools {
  readonly pasta: string | undefined;
  readonly slirp4netns: string | undefined;
}

export const networkTools = (): NetworkTools => ({
  pasta: which("pasta"),
  slirp4netns: which("slirp4netns"),
});

/** What --network is when neither the flag nor config.toml names one. */
export const defaultNetwork = (t: NetworkTools): "pasta" | "slirp4netns" | "none" =>
  t.pasta ? "pasta" : t.slirp4netns ? "slirp4netns" : "none";

export interface CgroupFacts {
  readonly version: "v2" | "v1 or hybrid";
  /** The file system on /sys/fs/cgroup: cgroup2, or tmpfs holding v1 hierarchies. */
  readonly filesystem: string;
  /** This process's cgroup (v2), "/user.slice/user-1000.slice/session-2.scope". */
  readonly own: string | undefined;
  /** The cgroup systemd delegates to the user (user@UID.service), when it exists. */
  readonly delegated:
    | {
        readonly path: string;
        readonly owned: boolean;
        readonly controllers: readonly string[];
        readonly subtreeControl: readonly string[];
      }
    | undefined;
}

const words = (p: string): string[] => (readTrim(p) ?? "").split(/\s+/).filter((w) => w !== "");

/** Read-only: the cgroup version, this process's cgroup, and what systemd delegates to the user. */
export const cgroupFacts = (): CgroupFacts => {
  let filesystem = "unknown";
  try {
    filesystem = fsTypeName(statfsSync("/sys/fs/cgroup").type);
  } catch {
    // no /sys/fs/cgroup at all
  }
  if (filesystem !== "cgroup2")
    return { version: "v1 or hybrid", filesystem, own: undefined, delegated: undefined };
  const own = (readTrim("/proc/self/cgroup") ?? "")
    .split("\n")
    .find((l) => l.startsWith("0::"))
    ?.slice(3);
  const uid = process.getuid?.() ?? 0;
  const path = join("/sys/fs/cgroup", "user.slice", `user-${uid}.slice`, `user@${uid}.service`);
  let delegated: CgroupFacts["delegated"];
  try {
    const st = statSync(path);
    delegated = {
      path,
      owned: st.uid === uid,
      controllers: words(join(path, "cgroup.controllers")),
      subtreeControl: words(join(path, "cgroup.subtree_control")),
    };
  } catch {
    delegated = undefined;
  }
  return { version: "v2", filesystem, own, delegated };
};

/** The session bus of the user's systemd, where the systemd cgroup manager talks to it. */
export const userBus = (env: NodeJS.ProcessEnv = process.env): { path: string; from: string } | undefined => {
  const isSocket = (p: string): boolean => {
    try {
      return statSync(p).isSocket();
    } catch {
      return false;
    }
  };
  for (const part of (env.DBUS_SESSION_BUS_ADDRESS ?? "").split(";")) {
    const m = /^unix:(?:.*,)?path=([^,]+)/.exec(part);
    if (m?.[1] && isSocket(m[1])) return { path: m[1], from: "$DBUS_SESSION_BUS_ADDRESS" };
  }
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg?.startsWith("/") && isSocket(join(xdg, "bus")))
    return { path: join(xdg, "bus"), from: "$XDG_RUNTIME_DIR/bus" };
  return undefined;
};

/** Whether systemd runs this host, and keeps the user's processes after logout (linger). */
export const lingerFacts = (user: string | undefined): { systemd: boolean; linger: boolean } => {
  let systemd = false;
  try {
    systemd = statSync("/run/systemd/system").isDirectory();
  } catch {
    // not booted with systemd
  }
  let linger = false;
  try {
    linger = user !== undefined && statSync(join("/var/lib/systemd/linger", user)).isFile();
  } catch {
    // no linger file
  }
  return { systemd, linger };
};

/** RLIMIT_NOFILE now: nook raises containers' soft limit to the hard one. */
export const openFilesLimit = (): { soft: number | "unlimited"; hard: number | "unlimited" } | undefined => {
  const limits = currentLimits(readTrim("/proc/self/limits") ?? "");
  const nofile = limits.get("nofile");
  return nofile ? { soft: nofile[0], hard: nofile[1] } : undefined;
};
