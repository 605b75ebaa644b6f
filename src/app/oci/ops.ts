// An OCI bundle's config.json as the helper's op list: the same ops `nook
// run` uses (runtime/helper.ts), in the same order, from the spec's fields
// instead of an image's. What the helper cannot do is refused by name before
// anything starts (runtime/oci-spec.ts lists it; this file refuses what the
// op list cannot express).
import { isAbsolute, join, resolve } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { identityOps } from "../../runtime/container-ops.js";
import type { HelperOp } from "../../runtime/helper.js";
import type { IdMapPlan } from "../../runtime/idmap.js";
import { RLIMITS } from "../../runtime/rlimit.js";

/** The part of a decoded config.json this file reads. */
export interface OciConfigView {
  readonly process?: {
    readonly terminal?: boolean;
    readonly user: {
      readonly uid: number;
      readonly gid: number;
      readonly additionalGids?: readonly number[];
    };
    readonly args?: readonly string[];
    readonly env?: readonly string[];
    readonly cwd: string;
    readonly rlimits?: readonly { readonly type: string; readonly hard: number; readonly soft: number }[];
    readonly noNewPrivileges?: boolean;
    readonly capabilities?: { readonly bounding?: readonly string[] };
  };
  readonly root?: { readonly path: string; readonly readonly?: boolean };
  readonly hostname?: string;
  readonly mounts?: readonly {
    readonly destination: string;
    readonly type?: string;
    readonly source?: string;
    readonly options?: readonly string[];
  }[];
  readonly linux?: {
    readonly namespaces?: readonly { readonly type: string; readonly path?: string }[];
    readonly uidMappings?: readonly {
      readonly containerID: number;
      readonly hostID: number;
      readonly size: number;
    }[];
    readonly gidMappings?: readonly {
      readonly containerID: number;
      readonly hostID: number;
      readonly size: number;
    }[];
    readonly maskedPaths?: readonly string[];
    readonly readonlyPaths?: readonly string[];
  };
}

export interface OciPlan {
  /** The user namespace to make: undefined when the config has none (nook runs in the caller's). */
  readonly userns?: "mappings" | "subid";
  readonly idMap?: IdMapPlan;
  readonly ops: HelperOp[];
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly rootfs: string;
  readonly terminal: boolean;
}

const fail = (field: string, why: string): E.Either<string, never> => E.left(`config.json: ${field} ${why}`);

/** The devices runc gives every container; --dev binds these (and pts, shm, mqueue). */
const DEV_SUBMOUNTS = new Set(["/dev/pts", "/dev/shm", "/dev/mqueue"]);

/** A mount of the config as ops, or why it cannot be. */
const mountOps = (
  m: NonNullable<OciConfigView["mounts"]>[number],
  i: number,
  rootfs: string,
  bundle: string,
): E.Either<string, HelperOp[]> => {
  const dst = join(rootfs, m.destination);
  const opts = m.options ?? [];
  const where = `mounts[${i}] (${m.destination})`;
  if (!isAbsolute(m.destination)) return fail(where, "has a relative destination");
  const type = m.type ?? (opts.includes("bind") || opts.includes("rbind") ? "bind" : "");
  switch (type) {
    case "proc":
      return E.right([{ op: "proc", path: dst }]);
    case "sysfs":
      return E.right([{ op: "sys", path: dst, rw: !opts.includes("ro") }]);
    case "cgroup":
    case "cgroup2":
      // The container's cgroup comes with its cgroup namespace where nook makes one; nothing else to mount.
      return E.right([]);
    case "tmpfs":
      if (m.destination === "/dev") return E.right([{ op: "dev", path: dst }]);
      if (DEV_SUBMOUNTS.has(m.destination)) return E.right([]);
      return E.right([
        {
          op: "tmpfs",
          path: dst,
          options: opts.filter((o) => /^(size|mode|nr_inodes|uid|gid)=/.test(o)).join(","),
        },
      ]);
    case "devpts":
    case "mqueue":
      // --dev makes both (devpts with newinstance, ptmxmode=0666).
      return DEV_SUBMOUNTS.has(m.destination)
        ? E.right([])
        : fail(where, `type ${type} only at /dev/pts or /dev/mqueue`);
    case "bind":
    case "none": {
      if (!m.source) return fail(where, "is a bind mount without a source");
      const src = isAbsolute(m.source) ? m.source : resolve(bundle, m.source);
      if (m.destination === "/sys") return E.right([{ op: "sys", path: dst, rw: !opts.includes("ro") }]);
      return E.right([{ op: opts.includes("ro") ? "ro-bind" : "bind", src, dst }]);
    }
    default:
      return fail(where, `has type ${type || "(none)"}, which a rootless runtime cannot mount`);
  }
};

/** The spec's bounding set ("CAP_CHOWN") as nook's names ("CHOWN"); none listed: none kept. */
export const ociCapabilities = (bounding: readonly string[] | undefined): string[] =>
  (bounding ?? []).map((c) => c.replace(/^CAP_/, ""));

const KNOWN_NS = new Set(["user", "mount", "pid", "ipc", "uts", "network", "cgroup"]);
/** The namespaces an existing one of may be joined (by path); mount and pid are always nook's own. */
const SETNS_TYPE: Record<string, "net" | "ipc" | "uts" | "cgroup" | "user"> = {
  network: "net",
  ipc: "ipc",
  uts: "uts",
  cgroup: "cgroup",
  user: "user",
};

/**
 * The op list for `config`, ready for the helper: the namespaces it asks
 * for, the rootfs bound onto itself, its mounts, pivot_root, masks, the
 * process's identity. `fifo` makes it an OCI create (wait for start).
 */
export const ociPlan = (
  config: OciConfigView,
  bundle: string,
  stateDir: string,
  opts: {
    readonly fifo?: string;
    readonly consoleSocket?: number;
    /** linux.seccomp, compiled (runtime.ts); absent: no filter, as the spec has it. */
    readonly seccompFilter?: { readonly file: string; readonly flags: number };
  },
): E.Either<string, OciPlan> => {
  const proc = config.process;
  if (!proc) return fail("process", "is missing: there is nothing to run");
  if (!proc.args || proc.args.length === 0) return fail("process.args", "is empty");
  if (!config.root) return fail("root", "is missing");
  const rootfs = isAbsolute(config.root.path) ? config.root.path : resolve(bundle, config.root.path);
  const namespaces = config.linux?.namespaces ?? [];
  const joins: HelperOp[] = [];
  for (const [i, n] of namespaces.entries()) {
    if (!KNOWN_NS.has(n.type))
      return fail(`linux.namespaces[${i}]`, `has type ${n.type}, which nook cannot make`);
    if (n.path === undefined) continue;
    const type = SETNS_TYPE[n.type];
    if (!type)
      return fail(
        `linux.namespaces[${i}].path`,
        `(${n.type} at ${n.path}): nook makes the container's own ${n.type} namespace and cannot join one`,
      );
    joins.push({ op: "setns", type, path: n.path });
  }
  const has = (t: string): boolean => namespaces.some((n) => n.type === t && n.path === undefined);
  if (!has("mount")) return fail("linux.namespaces", "has no new mount namespace: nook always makes one");
  if (!has("pid")) return fail("linux.namespaces", "has no new pid namespace: nook's monitor needs one");
  const mounts: HelperOp[] = [];
  for (const [i, m] of (config.mounts ?? []).entries()) {
    const ops = mountOps(m, i, rootfs, bundle);
    if (E.isLeft(ops)) return ops;
    mounts.push(...ops.right);
  }
  const rlimits: HelperOp[] = [];
  for (const [i, r] of (proc.rlimits ?? []).entries()) {
    const resource = RLIMITS[r.type.replace(/^RLIMIT_/, "").toLowerCase()]?.resource;
    if (resource === undefined)
      return fail(`process.rlimits[${i}].type`, `${r.type} is not a resource limit nook knows`);
    rlimits.push({ op: "rlimit", resource, soft: r.soft, hard: r.hard });
  }
  const uidMappings = config.linux?.uidMappings ?? [];
  const gidMappings = config.linux?.gidMappings ?? [];
  const toEntries = (m: typeof uidMappings) =>
    m.map((e) => ({ inside: e.containerID, outside: e.hostID, count: e.size }));
  const idMap: IdMapPlan | undefined =
    has("user") && uidMappings.length > 0
      ? {
          kind: uidMappings.length === 1 && (uidMappings[0]?.size ?? 0) === 1 ? "single" : "subid",
          uids: toEntries(uidMappings),
          gids: toEntries(gidMappings),
        }
      : undefined;
  const unshare = ["mount", "ipc", "uts", "network"]
    .filter((t) => has(t))
    .map((t) => (t === "network" ? "net" : t));
  const ops: HelperOp[] = [
    ...joins,
    { op: "unshare", namespaces: unshare as ("mount" | "ipc" | "uts" | "net")[] },
    { op: "mount-private" },
    // pivot_root needs the new root to be a mount point.
    { op: "bind", src: rootfs, dst: rootfs },
    { op: "monitor", dir: stateDir, log: "", logMax: 0, tty: false },
    { op: "unshare", namespaces: ["pid"] },
    { op: "unshare", namespaces: ["mount"] },
    ...(opts.fifo ? [{ op: "exec-fifo", path: opts.fifo } as const] : []),
    ...mounts,
    ...(config.root.readonly ? [{ op: "remount-ro", path: rootfs } as const] : []),
    { op: "pivot", path: rootfs },
    ...(config.linux?.maskedPaths ?? []).map((path): HelperOp => ({ op: "mask", path })),
    ...(config.linux?.readonlyPaths ?? []).map((path): HelperOp => ({ op: "readonly", path })),
    ...(has("uts") && config.hostname ? [{ op: "hostname", name: config.hostname } as const] : []),
    ...rlimits,
    ...(proc.terminal && opts.consoleSocket !== undefined
      ? [{ op: "tty", rows: 24, cols: 80, console: true } as const]
      : []),
    ...identityOps({
      uid: proc.user.uid,
      gid: proc.user.gid,
      ...(proc.user.additionalGids ? { groups: [...proc.user.additionalGids] } : {}),
      workdir: proc.cwd,
      noNewPrivileges: proc.noNewPrivileges === true,
      capabilities: ociCapabilities(proc.capabilities?.bounding),
      ...(opts.seccompFilter ? { seccompFilter: opts.seccompFilter } : {}),
    }),
    ...(opts.fifo ? [{ op: "exec-wait" } as const] : []),
  ];
  const env = Object.fromEntries(
    (proc.env ?? []).map((l) => [
      l.slice(0, l.indexOf("=") < 0 ? l.length : l.indexOf("=")),
      l.slice(l.indexOf("=") + 1),
    ]),
  );
  return E.right({
    ...(has("user") ? { userns: idMap ? ("mappings" as const) : ("subid" as const) } : {}),
    ...(idMap ? { idMap } : {}),
    ops,
    argv: [...proc.args],
    env,
    rootfs,
    terminal: proc.terminal === true,
  });
};
