// --device for nook run and create: host device nodes the user may open, and
// CDI devices from the specs in /etc/cdi and /var/run/cdi (or the
// directories $NOOK_CDI_SPEC_DIRS names, colon-separated, later ones taking
// precedence as /var/run/cdi does over /etc/cdi). Both become binds of host
// nodes onto files in the container's /dev (runtime/devices.ts says why);
// CDI mounts become binds, CDI env joins the container's environment.
import { accessSync, constants, readdirSync, readFileSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import {
  parseCdiSpec,
  resolveCdi,
  type CdiDeviceNode,
  type CdiMount,
  type LoadedSpec,
} from "../runtime/cdi.js";
import type { BindMount } from "../runtime/container-ops.js";
import { parseDevice, type HostDeviceRequest } from "../runtime/devices.js";

export const DEFAULT_CDI_DIRS = ["/etc/cdi", "/var/run/cdi"];

/** Who the container's process is to the kernel, for the open checks a device node gets. */
export interface Opener {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  /** Whether the container keeps the user's supplementary groups (a single-id map cannot drop them). */
  readonly keepsGroups: boolean;
}

const fail = (message: string, hint?: string): E.Either<NookError, never> =>
  E.left({ _tag: "DeviceFailed", message, ...(hint ? { hint } : {}) });

const may = (path: string, mode: number): boolean => {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
};

/** major(3) and minor(3) of a dev_t as glibc encodes it (the low 32 bits hold every device of today's kernels). */
const majorOf = (rdev: number): number => (rdev >>> 8) & 0xfff;
const minorOf = (rdev: number): number => (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);

const describeNode = (st: Stats): string =>
  `${st.isCharacterDevice() ? "c" : "b"} ${majorOf(st.rdev)}:${minorOf(st.rdev)}, mode ${(st.mode & 0o7777).toString(8)}, owner ${st.uid}:${st.gid}`;

/**
 * Whether an allowed access comes only through a supplementary group, which
 * a container on subordinate ids does not keep (its groups are the image's).
 */
const onlyThroughGroup = (st: Stats, who: Opener, bit: number): boolean => {
  const owner = st.uid === who.uid && (st.mode & (bit << 6)) !== 0;
  const primary = st.gid === who.gid && (st.mode & (bit << 3)) !== 0;
  const other = (st.mode & bit) !== 0;
  return !owner && !primary && !other && who.groups.includes(st.gid) && (st.mode & (bit << 3)) !== 0;
};

/** A host device node (or a directory of them) as a bind, after checking the user may open it as asked. */
export const hostDeviceBind = (
  req: HostDeviceRequest,
  who: Opener,
  flag = `--device ${req.src}`,
): E.Either<NookError, BindMount> => {
  let st: Stats;
  try {
    st = statSync(req.src);
  } catch (e) {
    return fail(
      `${flag}: ${req.src} does not exist on this host (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  if (st.isDirectory()) return E.right({ src: req.src, dst: req.dst, readOnly: false });
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return fail(`${flag}: ${req.src} is not a device node`);
  const r = may(req.src, constants.R_OK);
  const w = may(req.src, constants.W_OK);
  const wantR = req.permissions.includes("r");
  const wantW = req.permissions.includes("w");
  const node = describeNode(st);
  const missing =
    !r && !w
      ? "reading or writing"
      : req.permissionsGiven
        ? [wantR && !r ? "reading" : "", wantW && !w ? "writing" : ""].filter(Boolean).join(" and ")
        : "";
  if (missing !== "")
    return fail(
      `${flag}: you may not open ${req.src} for ${missing} (${node})`,
      "ask your administrator for access to the device (its group, or a udev rule), or leave it out",
    );
  if (req.permissionsGiven && ((!wantR && r) || (!wantW && w)))
    return fail(
      `${flag}: a rootless container cannot be denied ${!wantW && w ? "writing" : "reading"} a device you may ${!wantW && w ? "write" : "read"} (there is no device cgroup to enforce ${req.permissions})`,
      "give the permissions you have (rw), or leave them out",
    );
  if (
    !who.keepsGroups &&
    [constants.R_OK, constants.W_OK].some(
      (bit, i) => [r, w][i] && onlyThroughGroup(st, who, bit === constants.R_OK ? 4 : 2),
    )
  )
    return fail(
      `${flag}: you may open ${req.src} only through your group ${st.gid}, which a container on your subordinate ids does not keep (${node})`,
      "ask for the device to be opened to you (mode, or an ACL for your user), or run as a user without subordinate ranges",
    );
  return E.right({ src: req.src, dst: req.dst, readOnly: false });
};

/** The spec files of each directory, *.json, *.yaml and *.yml, in name order; a missing directory has none. */
export const loadCdiSpecs = async (
  dirs: readonly string[],
): Promise<{ specs: LoadedSpec[]; errors: string[] }> => {
  const specs: LoadedSpec[] = [];
  const errors: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir)
        .filter((n) => /\.(json|ya?ml)$/.test(n))
        .sort();
    } catch {
      continue;
    }
    for (const n of names) {
      const path = join(dir, n);
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (e) {
        errors.push(`${path}: ${(e as Error).message}`);
        continue;
      }
      const yaml = path.endsWith(".json") ? undefined : await import("yaml");
      const spec = parseCdiSpec(text, path, (t) => yaml?.parse(t));
      if (E.isLeft(spec)) errors.push(spec.left.message);
      else specs.push({ path, spec: spec.right });
    }
  }
  return { specs, errors };
};

export const cdiSpecDirs = (env: NodeJS.ProcessEnv = process.env): string[] =>
  env.NOOK_CDI_SPEC_DIRS
    ? env.NOOK_CDI_SPEC_DIRS.split(":").filter((d) => d.startsWith("/"))
    : DEFAULT_CDI_DIRS;

const TYPES: Readonly<Record<string, (st: Stats) => boolean>> = {
  c: (st) => st.isCharacterDevice(),
  u: (st) => st.isCharacterDevice(),
  b: (st) => st.isBlockDevice(),
  p: (st) => st.isFIFO(),
};

/**
 * A CDI device node: the host's node at hostPath (else path) bound at path.
 * What the spec says of the node (type, numbers, mode, owner) must be what
 * the host's node is: rootless, nook can only show that one.
 */
const cdiNodeBind = (n: CdiDeviceNode, name: string, who: Opener): E.Either<NookError, BindMount> => {
  const src = n.hostPath ?? n.path;
  const flag = `--device ${name} (node ${n.path})`;
  if (!n.path.startsWith("/")) return fail(`${flag}: the container path must be absolute`);
  let st: Stats;
  try {
    st = statSync(src);
  } catch {
    return fail(
      `${flag}: ${src} does not exist on this host, and a rootless container cannot create device nodes`,
    );
  }
  const major = majorOf(st.rdev);
  const minor = minorOf(st.rdev);
  const differs = [
    n.type !== undefined && !TYPES[n.type]?.(st) ? `type ${n.type}` : "",
    n.major !== undefined && n.major !== major ? `major ${n.major}` : "",
    n.minor !== undefined && n.minor !== minor ? `minor ${n.minor}` : "",
    n.fileMode !== undefined && (n.fileMode & 0o7777) !== (st.mode & 0o7777)
      ? `mode ${(n.fileMode & 0o7777).toString(8)}`
      : "",
    n.uid !== undefined && n.uid !== st.uid ? `uid ${n.uid}` : "",
    n.gid !== undefined && n.gid !== st.gid ? `gid ${n.gid}` : "",
  ].filter(Boolean);
  if (differs.length > 0)
    return fail(
      `${flag}: the spec wants ${differs.join(", ")}, but the host's ${src} is ${describeNode(st)}, and a rootless container can only be shown the host's node`,
    );
  return hostDeviceBind(
    {
      kind: "host",
      src,
      dst: n.path,
      permissions: n.permissions ?? "rwm",
      permissionsGiven: n.permissions !== undefined,
    },
    who,
    flag,
  );
};

/**
 * Mount options of a CDI mount that a bind honours: ro; private propagation
 * (every container mount is); nosuid, which no_new_privs makes moot; nodev,
 * since a device node under the mount opens with the user's own rights
 * whatever the flag. Anything else is refused, not dropped.
 */
const HONOURED = new Set(["ro", "rw", "bind", "rbind", "private", "rprivate", "nosuid", "nodev"]);

const cdiMountBind = (m: CdiMount, name: string): E.Either<NookError, BindMount> => {
  const flag = `--device ${name} (mount ${m.containerPath})`;
  if (!m.containerPath.startsWith("/") || !m.hostPath.startsWith("/"))
    return fail(`${flag}: hostPath and containerPath must be absolute`);
  if (m.type !== undefined && m.type !== "bind" && m.type !== "none")
    return fail(`${flag}: mounts of type ${m.type} are not supported (bind is)`);
  const options = m.options ?? [];
  const bad = options.filter((o) => !HONOURED.has(o));
  if (bad.length > 0)
    return fail(
      `${flag}: mount options ${bad.join(", ")} are not supported (${[...HONOURED].join(", ")} are)`,
    );
  try {
    statSync(m.hostPath);
  } catch {
    return fail(`${flag}: ${m.hostPath} does not exist on this host`);
  }
  return E.right({ src: m.hostPath, dst: m.containerPath, readOnly: options.includes("ro") });
};

export interface DeviceEdits {
  readonly binds: readonly BindMount[];
  readonly env: readonly string[];
}

/** Every --device flag as binds and environment, checked against the host before anything is made. */
export const resolveDevices = async (
  flags: readonly string[],
  who: Opener,
): Promise<E.Either<NookError, DeviceEdits>> => {
  const binds: BindMount[] = [];
  const cdi: string[] = [];
  for (const f of flags) {
    const req = parseDevice(f);
    if (E.isLeft(req)) return fail(req.left);
    if (req.right.kind === "cdi") {
      cdi.push(req.right.name);
      continue;
    }
    const bind = hostDeviceBind(req.right, who, `--device ${f}`);
    if (E.isLeft(bind)) return bind;
    binds.push(bind.right);
  }
  if (cdi.length === 0) return E.right({ binds, env: [] });
  const { specs, errors } = await loadCdiSpecs(cdiSpecDirs());
  const edits = resolveCdi(cdi, specs);
  if (E.isLeft(edits))
    return errors.length > 0 && /no CDI spec defines it/.test(edits.left.message)
      ? fail(edits.left.message, `${errors.length} spec file(s) could not be read; the first: ${errors[0]}`)
      : edits;
  for (const n of edits.right.deviceNodes) {
    const b = cdiNodeBind(n, cdi.join(", "), who);
    if (E.isLeft(b)) return b;
    binds.push(b.right);
  }
  for (const m of edits.right.mounts) {
    const b = cdiMountBind(m, cdi.join(", "));
    if (E.isLeft(b)) return b;
    binds.push(b.right);
  }
  return E.right({ binds, env: edits.right.env });
};
