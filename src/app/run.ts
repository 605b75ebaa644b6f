// nook run: an image's config and the command line become a container spec,
// the spec becomes nook-helper ops (runtime/container-ops.ts), and the helper
// runs the container in the foreground; its exit status is nook's.
import { configuredCgroupManager } from "./locations.js";
import { checkLimits, resolveManager, readHost } from "../cgroups/manager.js";
import type { Limits } from "../cgroups/limits.js";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { ImageConfig } from "../image/config.js";
import { digestHex } from "../image/digest.js";
import type { NookError } from "../lib/errors.js";
import { trace } from "../lib/trace.js";
import {
  hostsFile,
  parseAddHost,
  parseNetwork,
  parsePublish,
  resolvConf,
  type HostEntry,
  type NetworkMode,
  type PortSpec,
} from "../network/network.js";
import { MASKED_PATHS, READONLY_PATHS, type BindMount } from "../runtime/container-ops.js";
import { parseSecurityOpts, systemPaths } from "../runtime/security-opt.js";
import { parseSysctl, type Sysctl } from "../runtime/sysctl.js";
import { capabilityName, capabilitySet, lastCapability } from "../runtime/capabilities.js";
import { containerRlimits, currentLimits, parseUlimit, type Rlimit } from "../runtime/rlimit.js";
import { fuseMappingText, keepIdPlan, mapsInside, translateIds, type IdMapPlan } from "../runtime/idmap.js";
import { currentIdMapPlan, unshareExec } from "../runtime/userns.js";
import type { Store } from "../store/store.js";
import { findImage, openStore, readConfig, type ImageView } from "./images.js";
import { which } from "../lib/which.js";
import { Containers } from "../store/containers.js";
import type { ContainerRecord } from "../store/records.js";
import { endNetworkHelperIn } from "./containers.js";
import { launchAttached, launchDetached } from "./launch.js";
import { profileCopy, readProfileFile } from "./seccomp-filter.js";
import { uniqueName } from "./names.js";
import { chooseDriver, devFuseUsable, type Driver } from "./storage-driver.js";
import { configuredNetwork } from "./locations.js";
import { resolveDevices } from "./devices.js";

export interface RunRequest {
  readonly image: string;
  readonly command: readonly string[];
  readonly entrypoint?: string;
  readonly env: readonly string[];
  readonly envFiles: readonly string[];
  readonly workdir?: string;
  readonly user?: string;
  readonly hostname?: string;
  /** --name; a Docker-style adjective_name when absent. */
  readonly name?: string;
  readonly volumes: readonly string[];
  readonly mounts: readonly string[];
  readonly tmpfs: readonly string[];
  readonly readOnly: boolean;
  /** --network as given: none, host, pasta[:OPTS], slirp4netns[:OPTS]; absent: the best this host has. */
  readonly network?: string;
  /** -p/--publish [IP:]HOSTPORT:CONTAINERPORT[/PROTO] */
  readonly publish: readonly string[];
  readonly dns: readonly string[];
  readonly dnsSearch: readonly string[];
  /** --add-host NAME:IP */
  readonly addHosts: readonly string[];
  /** The host's loopback reachable from the container (off by default, as Podman). */
  readonly hostLoopback: boolean;
  readonly rm: boolean;
  readonly interactive: boolean;
  readonly pull: "missing" | "always" | "never";
  readonly platform?: string;
  /** undefined: the one chooseDriver finds for this host. */
  readonly storageDriver?: Driver;
  readonly init: boolean;
  readonly tty: boolean;
  /** keep-id: your own uid and gid keep their numbers inside (Podman's --userns=keep-id). */
  readonly userns: "host" | "keep-id";
  /** Bind your home directory at its own path, as yourself (keep-id), like Apptainer. */
  readonly bindHome: boolean;
  /** Bind the working directory at its own path and start there, as yourself (keep-id). */
  readonly bindCwd: boolean;
  /** --ulimit NAME=SOFT[:HARD] */
  readonly ulimits: readonly string[];
  /** -m, --cpus, --pids-limit...: parsed (cgroups/limits.ts). */
  readonly limits?: Limits;
  readonly cgroupManager?: "systemd" | "cgroupfs";
  /** --cgroups disabled */
  readonly cgroupsDisabled?: boolean;
  /** --security-opt, as given */
  readonly securityOpts: readonly string[];
  readonly privileged: boolean;
  /** --sysctl NAME=VALUE */
  readonly sysctls: readonly string[];
  /** --cap-add and --cap-drop, as given */
  readonly capAdd: readonly string[];
  readonly capDrop: readonly string[];
  /** --device /dev/X[:/dev/Y][:rwm] or vendor.com/class=name (CDI) */
  readonly devices: readonly string[];
  /** --env-host: the user's environment, over the image's. */
  readonly envHost: boolean;
}

const fail = (message: string, hint?: string): E.Either<NookError, never> =>
  E.left({ _tag: "RunFailed", message, ...(hint ? { hint } : {}) });

/** Pulls with a nook of its own (the pull runs in the user namespace); its progress goes to stderr, as docker run's. */
const pullFirst = (req: RunRequest): E.Either<NookError, void> => {
  const args = ["pull", "-q", ...(req.platform ? ["--platform", req.platform] : []), req.image];
  const r = spawnSync(process.execPath, [process.argv[1] ?? "nook", ...args], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return r.status === 0
    ? E.right(undefined)
    : E.left({ _tag: "PullFailed", message: `pulling ${req.image} failed`, exitCode: 125 });
};

const imageFor = async (store: Store, req: RunRequest): Promise<E.Either<NookError, ImageView>> => {
  if (req.pull === "always") {
    const pulled = pullFirst(req);
    if (E.isLeft(pulled)) return pulled;
  }
  const found = await findImage(store, req.image);
  if (E.isRight(found) || req.pull !== "missing" || found.left._tag !== "ImageUnknown") return found;
  const pulled = pullFirst(req);
  if (E.isLeft(pulled)) return pulled;
  return findImage(store, req.image);
};

/** Entrypoint and command, as Docker combines them. */
export const commandLine = (
  config: ImageConfig["config"] | undefined,
  req: Pick<RunRequest, "command" | "entrypoint">,
): string[] => {
  const entrypoint =
    req.entrypoint !== undefined
      ? req.entrypoint === ""
        ? []
        : [req.entrypoint]
      : [...(config?.Entrypoint ?? [])];
  // A new entrypoint drops the image's Cmd, as in Docker.
  const cmd =
    req.command.length > 0 ? [...req.command] : req.entrypoint !== undefined ? [] : [...(config?.Cmd ?? [])];
  return [...entrypoint, ...cmd];
};

const parseEnvLine = (line: string, host: NodeJS.ProcessEnv): string | undefined => {
  if (line.includes("=")) return line;
  const v = host[line];
  return v === undefined ? undefined : `${line}=${v}`;
};

/** nook's own variables, which say where this nook keeps things, stay out of --env-host. */
const hostEnvironment = (host: NodeJS.ProcessEnv): string[] =>
  Object.entries(host)
    .filter(([k, v]) => v !== undefined && !k.startsWith("_NOOK_"))
    .map(([k, v]) => `${k}=${v}`);

/** Image Env, then the host's (--env-host), then --env-file lines, then -e: later settings of a name win. */
export const environment = (
  image: readonly string[],
  files: readonly string[],
  flags: readonly string[],
  host: NodeJS.ProcessEnv,
  envHost = false,
): string[] => {
  const out = new Map<string, string>([
    ["PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  ]);
  for (const e of [...image, ...(envHost ? hostEnvironment(host) : []), ...files, ...flags]) {
    const line = parseEnvLine(e, host);
    if (line === undefined) continue;
    const eq = line.indexOf("=");
    out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return [...out].map(([k, v]) => `${k}=${v}`);
};

const readEnvFile = (file: string): E.Either<NookError, string[]> => {
  try {
    return E.right(
      readFileSync(file, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#")),
    );
  } catch (e) {
    return fail(`--env-file ${file}: ${(e as Error).message}`);
  }
};

/** The image's /etc/passwd or /etc/group: from the top-most layer that has it. */
const imageFile = (store: Store, view: ImageView, name: string): string => {
  for (const l of [...view.record.layers].reverse()) {
    try {
      return readFileSync(join(store.layerTree(l.diffId), name), "utf8");
    } catch {
      // not in this layer, or not readable from outside the namespace
    }
  }
  return "";
};

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly groups: number[];
}

/** "uid[:gid]" or "name[:group]", looked up in the image's passwd and group files as Docker does. */
export const resolveUser = (spec: string, passwd: string, group: string): E.Either<string, ResolvedUser> => {
  const [u = "", g] = spec === "" ? ["0"] : spec.split(":");
  const users = passwd.split("\n").map((l) => l.split(":"));
  const groups = group.split("\n").map((l) => l.split(":"));
  const entry = /^\d+$/.test(u) ? users.find((f) => f[2] === u) : users.find((f) => f[0] === u);
  if (!/^\d+$/.test(u) && !entry) return E.left(`no user "${u}" in the image's /etc/passwd`);
  const uid = Number(entry?.[2] ?? u);
  let gid = Number(entry?.[3] ?? uid);
  if (g !== undefined) {
    const ge = /^\d+$/.test(g) ? undefined : groups.find((f) => f[0] === g);
    if (!/^\d+$/.test(g) && !ge) return E.left(`no group "${g}" in the image's /etc/group`);
    gid = Number(ge?.[2] ?? g);
  }
  const name = entry?.[0];
  const supplementary = name
    ? groups.filter((f) => (f[3] ?? "").split(",").includes(name)).map((f) => Number(f[2]))
    : [];
  return E.right({
    uid,
    gid,
    home: entry?.[5] || (uid === 0 ? "/root" : "/"),
    groups: [...new Set([gid, ...supplementary])].filter((n) => Number.isInteger(n)),
  });
};

const parseVolume = (v: string): E.Either<NookError, BindMount> => {
  const parts = v.split(":");
  const [src = "", dst = "", mode = "rw"] = parts;
  if (parts.length < 2 || parts.length > 3 || !dst.startsWith("/"))
    return fail(`-v ${v}: expected HOST-PATH:CONTAINER-PATH[:ro|rw]`);
  if (!src.startsWith("/"))
    return fail(`-v ${v}: named volumes are not supported; give an absolute host path`);
  if (mode !== "ro" && mode !== "rw") return fail(`-v ${v}: the mode is ro or rw, not ${mode}`);
  if (!existsSync(src)) return fail(`-v ${v}: ${src} does not exist`);
  return E.right({ src, dst, readOnly: mode === "ro" });
};

/**
 * --mount, Docker's long form: type=bind,source=/a,target=/b[,readonly] or
 * type=tmpfs,target=/x[,tmpfs-size=BYTES][,tmpfs-mode=OCTAL].
 */
export const parseMount = (
  spec: string,
): E.Either<NookError, { bind: BindMount } | { tmpfs: { path: string; options: string } }> => {
  const fields = new Map<string, string>();
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    fields.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? "true" : part.slice(eq + 1));
  }
  const type = fields.get("type") ?? "volume";
  const target = fields.get("target") ?? fields.get("destination") ?? fields.get("dst");
  if (!target?.startsWith("/")) return fail(`--mount ${spec}: needs target=/ABSOLUTE/PATH`);
  const ro = fields.get("readonly") ?? fields.get("ro");
  if (type === "bind") {
    const source = fields.get("source") ?? fields.get("src") ?? "";
    const b = parseVolume(`${source}:${target}:${ro === "true" || ro === "1" ? "ro" : "rw"}`);
    return E.isLeft(b)
      ? fail(`--mount ${spec}: ${b.left.message.replace(/^-v [^:]*:[^:]*(:\w+)?: /, "")}`)
      : E.right({ bind: b.right });
  }
  if (type === "tmpfs") {
    const size = fields.get("tmpfs-size");
    const mode = fields.get("tmpfs-mode") ?? "1777";
    if (size !== undefined && !/^\d+[kmg]?$/i.test(size))
      return fail(`--mount ${spec}: tmpfs-size is a number of bytes`);
    if (!/^[0-7]{3,4}$/.test(mode)) return fail(`--mount ${spec}: tmpfs-mode is an octal mode`);
    return E.right({ tmpfs: { path: target, options: `mode=${mode}${size ? `,size=${size}` : ""}` } });
  }
  return fail(`--mount ${spec}: type ${type} is not supported (bind and tmpfs are)`);
};

/** A file under /proc, or undefined where it cannot be read. */
const procFile = (name: string): string | undefined => {
  try {
    return readFileSync(`/proc/${name}`, "utf8");
  } catch {
    return undefined;
  }
};

const hostResolvConf = (): string => {
  try {
    return readFileSync("/etc/resolv.conf", "utf8");
  } catch {
    return "";
  }
};

/** Makes the container's directory: upper, work and merged dirs, and the files bound into /etc. */
const prepareDir = (
  store: Store,
  id: string,
  hostname: string,
  rm: boolean,
  etc: { readonly hosts: string; readonly resolv: string },
): string => {
  const dir = join(store.root, "containers", id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The upper dir's owner and mode are the container's / (overlayfs takes the root's from it).
  for (const d of ["upper", "work", "merged"]) mkdirSync(join(dir, d), { mode: 0o755 });
  writeFileSync(join(dir, "hostname"), `${hostname}\n`);
  writeFileSync(join(dir, "hosts"), etc.hosts);
  writeFileSync(join(dir, "resolv.conf"), etc.resolv);
  // --rm: should this nook die before its helper removes the dir, the next run will.
  if (rm) writeFileSync(join(dir, "remove-with"), String(process.pid));
  return dir;
};

const limitsFor = (ulimits: readonly string[]): E.Either<NookError, Rlimit[]> => {
  const asked: Rlimit[] = [];
  for (const u of ulimits) {
    const r = parseUlimit(u);
    if (E.isLeft(r)) return fail(r.left);
    asked.push(r.right);
  }
  let proc = "";
  try {
    proc = readFileSync("/proc/self/limits", "utf8");
  } catch {
    // no /proc: no defaults, and the kernel checks what was asked
  }
  const all = containerRlimits(asked, currentLimits(proc));
  return E.isLeft(all) ? fail(all.left) : all;
};

/** 64 hex digits from the kernel's random source (node:crypto costs nook run its start-up time). */
const newContainerId = (): string => {
  const fd = openSync("/dev/urandom", "r");
  try {
    const b = Buffer.alloc(32);
    readSync(fd, b, 0, 32, null);
    return b.toString("hex");
  } finally {
    closeSync(fd);
  }
};

/** --network, -p and --add-host, checked before anything is made. */
const networkFor = (
  req: RunRequest,
): E.Either<NookError, { mode: NetworkMode; ports: PortSpec[]; addHosts: HostEntry[] }> => {
  const mode = parseNetwork(req.network ?? configuredNetwork(), (tool) => which(tool) !== undefined);
  if (E.isLeft(mode)) return fail(mode.left);
  const ports: PortSpec[] = [];
  for (const p of req.publish) {
    const parsed = parsePublish(p);
    if (E.isLeft(parsed)) return fail(parsed.left);
    ports.push(...parsed.right);
  }
  if (ports.length > 0 && mode.right.kind !== "pasta" && mode.right.kind !== "slirp4netns")
    return fail(
      `-p needs a network of the container's own (pasta or slirp4netns), not --network ${mode.right.kind}`,
      mode.right.kind === "host"
        ? "with --network host the container's ports are the host's already"
        : undefined,
    );
  // slirp4netns answers a published UDP port from its host-loopback address,
  // which --disable-host-loopback then drops: the replies never arrive.
  if (mode.right.kind === "slirp4netns" && !req.hostLoopback && ports.some((p) => p.proto === "udp"))
    return fail(
      "slirp4netns drops the replies of a published UDP port unless the host's loopback is reachable from the container",
      "add --host-loopback, or use --network pasta",
    );
  const addHosts: HostEntry[] = [];
  for (const h of req.addHosts) {
    const parsed = parseAddHost(h);
    if (E.isLeft(parsed)) return fail(parsed.left);
    addHosts.push(parsed.right);
  }
  return E.right({ mode: mode.right, ports, addHosts });
};

interface HostUser {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
  readonly home: string;
}

const hostUser = (): HostUser => {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  try {
    const u = userInfo();
    return { uid, gid, name: u.username, home: u.homedir };
  } catch {
    // no passwd entry for us (some HPC and CI setups)
    return { uid, gid, name: `user${uid}`, home: process.env.HOME ?? "/" };
  }
};

const describeIds = (plan: IdMapPlan): string =>
  plan.uids.map((e) => (e.count === 1 ? `${e.inside}` : `${e.inside}-${e.inside + e.count - 1}`)).join(", ");

const keepIdDriver = (chosen: Driver, forced: Driver | undefined): E.Either<NookError, Driver> => {
  if (chosen === "fuse-overlayfs") return E.right(chosen);
  if (forced !== undefined)
    return fail(
      `--userns=keep-id cannot run on --storage-driver ${forced}: it would show the image's files under other owners`,
      "use --storage-driver fuse-overlayfs, or leave --storage-driver out",
    );
  if (which("fuse-overlayfs") && devFuseUsable()) return E.right("fuse-overlayfs");
  return E.left({
    _tag: "FuseUnavailable",
    message:
      "--userns=keep-id needs fuse-overlayfs (to show the image's owners under your own id without copying the image), and it is not usable here",
    hint: "install fuse-overlayfs (apt-get install fuse-overlayfs) and make /dev/fuse readable and writable",
  });
};

/**
 * /etc/passwd and /etc/group with an entry for you, as Podman's keep-id adds
 * one, when the image has none for your ids: written in the container's dir,
 * bound over the image's.
 */
const keepIdAccounts = (dir: string, self: HostUser, passwd: string, group: string): BindMount[] => {
  const has = (file: string, id: number): boolean =>
    file.split("\n").some((l) => l.split(":")[2] === String(id));
  const add = (file: string, line: string): string =>
    `${file}${file === "" || file.endsWith("\n") ? "" : "\n"}${line}\n`;
  const out: BindMount[] = [];
  if (!has(passwd, self.uid)) {
    writeFileSync(
      join(dir, "passwd"),
      add(passwd, `${self.name}:*:${self.uid}:${self.gid}:${self.name}:${self.home}:/bin/sh`),
    );
    out.push({ src: join(dir, "passwd"), dst: "/etc/passwd", readOnly: false });
  }
  if (!has(group, self.gid)) {
    writeFileSync(join(dir, "group"), add(group, `${self.name}:x:${self.gid}:`));
    out.push({ src: join(dir, "group"), dst: "/etc/group", readOnly: false });
  }
  return out;
};

/**
 * Makes a container from an image and the command line, ready to start: its
 * directory, and config.json with the spec its every start runs (nook create,
 * and the first half of nook run).
 */
export const createContainer = async (
  req: RunRequest,
  detached: boolean,
): Promise<E.Either<NookError, { store: Store; record: ContainerRecord }>> => {
  const store = openStore();
  store.init();
  const containers = new Containers(store);
  if (req.name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(req.name))
    return fail(`--name ${req.name}: names are letters, digits, _ . and -, not starting with _ . or -`);
  const taken = req.name !== undefined ? containers.nameTaken(req.name) : undefined;
  if (taken)
    return fail(
      `the name ${taken.name} is already in use by container ${taken.id.slice(0, 12)}`,
      "remove that container (nook rm) or choose another --name",
    );
  trace("run: find image");
  const found = await imageFor(store, req);
  if (E.isLeft(found)) return found;
  trace("run: image found");
  const view = found.right;
  const config = (await readConfig(store, view.record))?.config;
  const argv = commandLine(config, req);
  if (argv.length === 0) return fail(`${req.image} has no command: give one after the image name`);
  const plain = await currentIdMapPlan();
  if (E.isLeft(plain)) return plain;
  await removeAbandoned(store, plain.right);
  const keepId = req.userns === "keep-id" || req.bindHome || req.bindCwd;
  const self = hostUser();
  const plan = keepId ? keepIdPlan(plain.right, self) : plain.right;
  const single = plan.kind === "single";
  const passwd = imageFile(store, view, "etc/passwd");
  const group = imageFile(store, view, "etc/group");
  const user =
    keepId && req.user === undefined
      ? E.right({ uid: self.uid, gid: self.gid, home: self.home, groups: [self.gid] })
      : resolveUser(req.user ?? config?.User ?? "", passwd, group);
  if (E.isLeft(user)) return fail(user.left);
  if (!mapsInside(plan.uids, user.right.uid) || !mapsInside(plan.gids, user.right.gid))
    return single
      ? fail(
          `cannot run as ${user.right.uid}:${user.right.gid}: you have no subordinate ids, so only your own id exists in the container (as ${plan.uids[0]?.inside ?? 0}:${plan.gids[0]?.inside ?? 0})`,
          keepId
            ? "leave out -u, or ask your administrator for a range in /etc/subuid and /etc/subgid"
            : "run with -u 0, or ask your administrator for a range in /etc/subuid and /etc/subgid",
        )
      : fail(
          `cannot run as ${user.right.uid}:${user.right.gid}: the id is outside your user namespace (${describeIds(plan)})`,
          "pick an id within your ranges in /etc/subuid and /etc/subgid",
        );
  const envFiles: string[] = [];
  for (const f of req.envFiles) {
    const lines = readEnvFile(f);
    if (E.isLeft(lines)) return lines;
    envFiles.push(...lines.right);
  }
  const binds: BindMount[] = [];
  for (const v of req.volumes) {
    const b = parseVolume(v);
    if (E.isLeft(b)) return b;
    binds.push(b.right);
  }
  const mountTmpfs: { path: string; options: string }[] = [];
  for (const m of req.mounts) {
    const parsed = parseMount(m);
    if (E.isLeft(parsed)) return parsed;
    if ("bind" in parsed.right) binds.push(parsed.right.bind);
    else mountTmpfs.push(parsed.right.tmpfs);
  }
  const rlimits = limitsFor(req.ulimits);
  if (E.isLeft(rlimits)) return rlimits;
  // A limit this host cannot enforce fails now, before anything is made.
  const host = readHost();
  const configured = configuredCgroupManager();
  const manager = resolveManager(host, {
    ...(req.cgroupManager ? { flag: req.cgroupManager } : {}),
    ...(configured ? { configured } : {}),
    ...(req.cgroupsDisabled ? { disabled: true } : {}),
  });
  if (E.isLeft(manager)) return manager;
  const enforceable = checkLimits(host, manager.right, req.limits ?? {});
  if (E.isLeft(enforceable)) return enforceable;
  const security = parseSecurityOpts(req.securityOpts, process.cwd());
  if (typeof security === "string") return fail(security);
  const profile = typeof security.seccomp === "object" ? readProfileFile(security.seccomp.file) : undefined;
  if (profile && E.isLeft(profile)) return profile;
  const caps = capabilitySet(
    { add: req.capAdd, drop: req.capDrop, privileged: req.privileged },
    lastCapability(procFile("sys/kernel/cap_last_cap")),
  );
  if (typeof caps === "string") return fail(caps);
  const chosen = req.storageDriver ? E.right(req.storageDriver) : await chooseDriver(store);
  if (E.isLeft(chosen)) return chosen;
  // keep-id moves the ids the layers were unpacked under: only fuse-overlayfs
  // can show the image's owners through that (its uidmapping); kernel overlay
  // would need a chowned copy of the image. A single-id map moves nothing.
  const translate = keepId && plan.kind === "subid";
  const driver = translate ? keepIdDriver(chosen.right, req.storageDriver) : E.right(chosen.right);
  if (E.isLeft(driver)) return driver;
  if (req.bindHome) binds.push({ src: self.home, dst: self.home, readOnly: false });
  if (req.bindCwd && !(req.bindHome && process.cwd() === self.home))
    binds.push({ src: process.cwd(), dst: process.cwd(), readOnly: false });
  const id = newContainerId();
  const hostname = req.hostname ?? id.slice(0, 12);
  const env = environment(config?.Env ?? [], envFiles, req.env, process.env, req.envHost);
  const devices = await resolveDevices(req.devices, {
    uid: self.uid,
    gid: self.gid,
    groups: process.getgroups?.() ?? [],
    keepsGroups: single,
  });
  if (E.isLeft(devices)) return devices;
  binds.push(...devices.right.binds);
  // CDI's env edits apply to the finished environment, as the CDI runtimes apply them.
  const cdiNames = new Set(devices.right.env.map((e) => e.slice(0, e.indexOf("="))));
  const withDefaults = [
    `HOSTNAME=${hostname}`,
    `HOME=${req.bindHome && req.user === undefined ? self.home : user.right.home}`,
    ...(req.tty ? ["TERM=xterm"] : []),
    ...env,
  ].filter((e) => !cdiNames.has(e.slice(0, e.indexOf("="))));
  withDefaults.push(...devices.right.env);
  const net = networkFor(req);
  if (E.isLeft(net)) return net;
  const sysctls: Sysctl[] = [];
  for (const given of req.sysctls) {
    const parsed = parseSysctl(given, net.right.mode.kind);
    if (typeof parsed === "string") return fail(parsed);
    sysctls.push(parsed);
  }
  const system = systemPaths({ masked: MASKED_PATHS, readOnly: READONLY_PATHS }, req.privileged, security);
  const dir = prepareDir(store, id, hostname, req.rm && !detached, {
    hosts: hostsFile(hostname, net.right.addHosts),
    resolv: resolvConf(net.right.mode.kind, hostResolvConf(), req.dns, req.dnsSearch),
  });
  if (keepId && req.user === undefined) binds.push(...keepIdAccounts(dir, self, passwd, group));
  // The profile as it was at create: a later change to the file does not change the container.
  if (profile) writeFileSync(profileCopy(dir), profile.right.text);
  const tmpfs = [
    ...mountTmpfs,
    ...req.tmpfs.map((t) => {
      const [path = "", options = ""] = t.split(":");
      return { path, options: options || "mode=1777" };
    }),
    // --read-only leaves /tmp writable, as podman's --read-only-tmpfs does by default.
    ...(req.readOnly && !req.tmpfs.some((t) => t.split(":")[0] === "/tmp")
      ? [{ path: "/tmp", options: "mode=1777" }]
      : []),
  ];
  const record: ContainerRecord = {
    id,
    name: req.name ?? uniqueName(containers),
    created: new Date().toISOString(),
    image: req.image,
    imageId: view.record.id,
    argv,
    entrypoint: commandLine(config, {
      command: [],
      ...(req.entrypoint !== undefined ? { entrypoint: req.entrypoint } : {}),
    }),
    cmd:
      req.command.length > 0
        ? [...req.command]
        : req.entrypoint !== undefined
          ? []
          : [...(config?.Cmd ?? [])],
    env: withDefaults,
    user: req.user ?? (keepId ? `${self.uid}:${self.gid}` : (config?.User ?? "")),
    tty: req.tty,
    interactive: req.interactive,
    keepId,
    stopSignal: config?.StopSignal ?? "SIGTERM",
    spec: {
      layersDir: join(store.root, "layers"),
      layers: view.record.layers.map((l) => `${digestHex(l.diffId)}/diff`),
      dir,
      hostname,
      network: net.right.mode.kind,
      networkOptions: [...net.right.mode.options],
      ports: net.right.ports,
      hostLoopback: req.hostLoopback,
      binds,
      tmpfs,
      readOnly: req.readOnly,
      uid: user.right.uid,
      gid: user.right.gid,
      ...(single ? {} : { groups: user.right.groups }),
      workdir: req.workdir ?? (req.bindCwd ? process.cwd() : config?.WorkingDir || "/"),
      removeAfter: req.rm,
      driver: driver.right,
      ...(translate
        ? {
            fuseOptions: `uidmapping=${fuseMappingText(translateIds(plain.right.uids, plan.uids))},gidmapping=${fuseMappingText(translateIds(plain.right.gids, plan.gids))}`,
          }
        : {}),
      init: req.init,
      rlimits: rlimits.right,
      ...(req.limits && Object.keys(req.limits).length > 0 ? { limits: req.limits } : {}),
      ...(req.cgroupManager ? { cgroupManager: req.cgroupManager } : {}),
      ...(req.cgroupsDisabled ? { cgroupsDisabled: true } : {}),
      noNewPrivileges: security.noNewPrivileges,
      securityOpt: security.given.map((o) =>
        req.privileged && o === "seccomp=builtin" ? "seccomp=unconfined" : o,
      ),
      seccomp: security.seccomp,
      privileged: req.privileged,
      maskedPaths: system.masked,
      readonlyPaths: system.readOnly,
      sysctls,
      capabilities: caps,
      capAdd: req.capAdd.map((c) => capabilityName(c) ?? c),
      capDrop: req.capDrop.map((c) => capabilityName(c) ?? c),
    },
  };
  await containers.write(record);
  return E.right({ store, record });
};

/** Runs the container in the foreground; resolves to its exit status. */
export const runContainer = async (req: RunRequest): Promise<E.Either<NookError, number>> => {
  const made = await createContainer(req, false);
  if (E.isLeft(made)) return made;
  const { store, record } = made.right;
  const status = await launchAttached(store, record, { interactive: req.interactive });
  if (req.rm) removeLeftovers(record.spec.dir);
  return status;
};

/** nook run -d: creates the container and starts it under its monitor; resolves to its id. */
export const runDetached = async (req: RunRequest): Promise<E.Either<NookError, string>> => {
  const made = await createContainer(req, true);
  if (E.isLeft(made)) return made;
  const { store, record } = made.right;
  const started = await launchDetached(store, record);
  if (E.isLeft(started)) {
    if (req.rm) removeLeftovers(record.spec.dir);
    return started;
  }
  return E.right(record.id);
};

/**
 * Directories of --rm containers whose nook was killed: ours to remove, from
 * inside the user namespace when the container left files of subordinate ids.
 */
const removeAbandoned = async (store: Store, plan: IdMapPlan): Promise<void> => {
  const left = store.abandonedContainers().filter((d) => {
    // Its monitor died with the nook (kill -9): the network helper did not.
    endNetworkHelperIn(d);
    removeLeftovers(d);
    return existsSync(d);
  });
  if (left.length === 0) return;
  const started = await unshareExec(plan, ["rm", "-rf", "--", ...left], [], { stdin: "ignore" })();
  if (E.isRight(started)) await started.right.exited;
};

/** What the helper could not remove (it failed before its --rm-after, or was killed): our own files only then. */
const removeLeftovers = (dir: string): void => {
  try {
    if (statSync(dir, { throwIfNoEntry: false })) rmSync(dir, { recursive: true, force: true });
  } catch {
    // files of subordinate ids: `nook rm` (the lifecycle issue) will clear them
  }
};
