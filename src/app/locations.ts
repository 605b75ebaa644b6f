// Where this nook keeps its store and sockets, decided once per process from
// the host (store/location.ts has the rules) and handed down to the nooks it
// runs: the inner nook of a pull runs as root of the user namespace, where
// the uid is 0 and the same rules would name other places.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { NookFailure, type NookError } from "../lib/errors.js";
import { configFilePath, parseConfig, type CgroupManager, type NookConfig } from "../store/config-file.js";
import {
  configHome,
  homeOf,
  runtimePlace,
  storePlace,
  type HostFacts,
  type LocationFlags,
  type Place,
  type StorePlace,
} from "../store/location.js";
import { makePrivateDir } from "../store/private-dir.js";
import { Store } from "../store/store.js";
import { statFs } from "../sys/fs-type.js";
import { holdsPrivateDirs, ownDir, ownerOf } from "../sys/own-dir.js";

/** Set by the first nook for the nooks it runs: the store and runtime dir it decided on. */
const INHERITED_STORE = "_NOOK_STORE";
const INHERITED_RUNTIME = "_NOOK_RUNTIME";
/** Set by cli/main.ts from the global flags --root and --runroot. */
export const ROOT_FLAG = "_NOOK_ROOT_FLAG";
export const RUNROOT_FLAG = "_NOOK_RUNROOT_FLAG";
/** The store's record of where it was moved from (the note is printed once, when it is first made). */
const MOVED = "moved-from";

export const hostFacts = (env: NodeJS.ProcessEnv = process.env): HostFacts => {
  const uid = process.getuid?.() ?? 0;
  let passwdHome: string | undefined;
  try {
    passwdHome = userInfo().homedir;
  } catch {
    // no passwd entry (some CI and HPC setups): HOME is all there is
  }
  return {
    env,
    uid,
    passwdHome,
    ownDir: (p) => ownDir(p, uid),
    ownerOf,
    holdsPrivateDirs: (p) => holdsPrivateDirs(p, uid),
    statFs: (p) => statFs(p),
  };
};

const flags = (): LocationFlags => ({
  ...(process.env[ROOT_FLAG] ? { root: process.env[ROOT_FLAG] } : {}),
  ...(process.env[RUNROOT_FLAG] ? { runroot: process.env[RUNROOT_FLAG] } : {}),
});

export interface ConfigFile {
  readonly path: string;
  readonly exists: boolean;
  readonly settings: NookConfig;
}

let config: E.Either<NookError, ConfigFile> | undefined;

/** config.toml: its settings, none when it does not exist. */
export const configFile = (): E.Either<NookError, ConfigFile> => {
  if (config) return config;
  const home = configHome(hostFacts());
  const path = home ? configFilePath(home) : "(no config directory: no home of yours)";
  let text: string | undefined;
  try {
    text = home && existsSync(path) ? readFileSync(path, "utf8") : undefined;
  } catch (e) {
    return (config = E.left({ _tag: "ConfigInvalid", message: `read ${path}: ${(e as Error).message}` }));
  }
  if (text === undefined) return (config = E.right({ path, exists: false, settings: {} }));
  return (config = E.map((settings: NookConfig) => ({ path, exists: true, settings }))(
    parseConfig(text, path),
  ));
};

let store: E.Either<NookError, StorePlace> | undefined;

/** Where the store is and why; the first call also tells the nooks this one runs. */
export const storeLocation = (): E.Either<NookError, StorePlace> => {
  if (store) return store;
  const inherited = process.env[INHERITED_STORE];
  if (inherited) return (store = E.right({ path: inherited, why: "given by the nook that ran this one" }));
  const cfg = configFile();
  if (E.isLeft(cfg)) return (store = cfg);
  store = storePlace(hostFacts(), flags(), cfg.right.settings, cfg.right.path);
  if (E.isRight(store)) process.env[INHERITED_STORE] = store.right.path;
  return store;
};

/** nook's store, made (0700) if it is not there yet; a store nook may not use is a NookFailure. */
export const openStore = (): Store => {
  const place = storeLocation();
  if (E.isLeft(place)) throw new NookFailure(place.left);
  const { path, why, moved, movedFrom } = place.right;
  const made = makePrivateDir(
    path,
    "the store",
    "choose a directory of yours with --root DIR or NOOK_STORAGE=DIR",
  );
  if (E.isLeft(made)) throw new NookFailure(made.left);
  if (moved && !existsSync(join(path, MOVED))) {
    // Once, when the moved store is first made: every later command would repeat it.
    process.stderr.write(
      `nook: note: ${why}: the store is ${path} (nook info shows where everything lives)\n`,
    );
    writeFileSync(join(path, MOVED), `${movedFrom ?? ""}\n`, { mode: 0o600 });
  }
  return new Store(path);
};

let runtime: E.Either<NookError, Place> | undefined;

export const runtimeLocation = (): E.Either<NookError, Place> => {
  if (runtime) return runtime;
  const inherited = process.env[INHERITED_RUNTIME];
  if (inherited) return (runtime = E.right({ path: inherited, why: "given by the nook that ran this one" }));
  const cfg = configFile();
  if (E.isLeft(cfg)) return (runtime = cfg);
  runtime = runtimePlace(hostFacts(), flags(), cfg.right.settings, cfg.right.path);
  if (E.isRight(runtime)) process.env[INHERITED_RUNTIME] = runtime.right.path;
  return runtime;
};

/** The runtime directory, made 0700 and checked to be the user's own. */
export const runtimeDir = (): E.Either<NookError, string> => {
  const place = runtimeLocation();
  if (E.isLeft(place)) return place;
  return makePrivateDir(
    place.right.path,
    "the runtime directory",
    "remove it, or set XDG_RUNTIME_DIR (or --runroot) to a directory of yours (mode 0700)",
  );
};

/**
 * The cgroup manager config.toml names (systemd, cgroupfs or none), or
 * undefined for nook's own choice; for the cgroup managers (src/cgroups/),
 * which nook doctor's user-bus check informs: systemd needs the user's bus.
 */
export const configuredCgroupManager = (): CgroupManager | undefined => {
  const cfg = configFile();
  return E.isRight(cfg) ? cfg.right.settings.cgroup_manager : undefined;
};

/** The default network mode from config.toml (--network overrides it). */
export const configuredNetwork = (): string | undefined => {
  const cfg = configFile();
  return E.isRight(cfg) ? cfg.right.settings.network : undefined;
};

/**
 * The environment as far as nook may trust it to name the user's own files:
 * an XDG_RUNTIME_DIR of another user's (runuser and setpriv pass root's on)
 * is dropped, and a HOME of another user's gives way to the passwd home, so
 * that credentials (auth.json) and registries.conf are neither read from nor
 * written into another user's directories.
 */
export const ownEnv = (env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => {
  const facts = hostFacts(env);
  const out = { ...env };
  if (env.XDG_RUNTIME_DIR && facts.ownDir(env.XDG_RUNTIME_DIR).kind !== "own") delete out.XDG_RUNTIME_DIR;
  const home = homeOf(facts);
  if (home) out.HOME = home.path;
  return out;
};
