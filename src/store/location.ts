// Where nook keeps things, and why there (pure: the facts about the host come
// in as functions, so that every case is testable without the host having it).
//
// The store: --root, else $NOOK_STORAGE, else `root` in config.toml, else
// $XDG_DATA_HOME/nook (~/.local/share/nook). When that default is on a
// network or cluster file system (NFS, Lustre, GPFS, BeeGFS, CIFS...), which
// cannot hold files of subordinate uids or overlay upper dirs reliably, or
// there is no home directory of the user's at all (a CI account whose home is
// /nonexistent, root's HOME inherited through setpriv), the store goes to
// local disk: /var/tmp/nook-UID (kept across reboots and batch jobs, FHS), else
// $TMPDIR/nook-storage-UID. A place the user chose is used as chosen.
//
// The runtime directory (sockets): --runroot, else `runroot` in
// config.toml, else $XDG_RUNTIME_DIR/nook when XDG_RUNTIME_DIR is the user's
// and private (a login session's), else $TMPDIR/nook-UID when TMPDIR is the
// user's or sticky, else /tmp/nook-UID.
//
// Whatever is chosen must be the user's own directory, or one the user can
// make: a directory of another user, or one others may write in, is refused
// with the reason, never used (DESIGN.md section 5).
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import type { FsStat } from "../sys/fs-type.js";
import type { DirVerdict } from "../sys/own-dir.js";
import type { NookConfig } from "./config-file.js";

export interface HostFacts {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly uid: number;
  /** The home directory in the passwd database (NSS), when there is an entry. */
  readonly passwdHome: string | undefined;
  readonly ownDir: (path: string) => DirVerdict;
  readonly ownerOf: (path: string) => number | undefined;
  /** A private directory made in it stays private: it is ours, or sticky (/tmp). */
  readonly holdsPrivateDirs: (dir: string) => boolean;
  readonly statFs: (path: string) => FsStat | undefined;
}

export interface Place {
  readonly path: string;
  /** Why there, for nook info: "--root", "$XDG_RUNTIME_DIR/nook (your login session's)". */
  readonly why: string;
}

export interface StorePlace extends Place {
  /** Moved to local disk from where it would be (a network file system, or no home of the user's). */
  readonly moved?: true;
  /** The default it replaces, when there was one. */
  readonly movedFrom?: string;
}

/** The flags that override the config file (nook --root DIR --runroot DIR COMMAND). */
export interface LocationFlags {
  readonly root?: string;
  readonly runroot?: string;
}

const absolute = (p: string | undefined): p is string => p !== undefined && p.startsWith("/");

/**
 * $HOME when it is the user's, else the passwd entry's home when that is:
 * `setpriv` and `su` without `-` keep the caller's HOME, and nook never makes
 * its directories in another user's home.
 */
export const homeOf = (facts: HostFacts): Place | undefined => {
  const { env, uid, passwdHome } = facts;
  if (absolute(env.HOME) && facts.ownerOf(env.HOME) === uid) return { path: env.HOME, why: "$HOME" };
  if (absolute(passwdHome) && facts.ownerOf(passwdHome) === uid)
    return {
      path: passwdHome,
      why: absolute(env.HOME)
        ? `your home in passwd ($HOME=${env.HOME} is not yours)`
        : "your home in passwd",
    };
  return undefined;
};

/** $XDG_CONFIG_HOME, else ~/.config (a relative value is ignored, as the XDG spec says). */
export const configHome = (facts: HostFacts): string | undefined => {
  if (absolute(facts.env.XDG_CONFIG_HOME)) return facts.env.XDG_CONFIG_HOME;
  const home = homeOf(facts);
  return home ? join(home.path, ".config") : undefined;
};

const refused = (
  what: string,
  path: string,
  v: DirVerdict & { kind: "foreign" },
  hint: string,
): NookError => ({
  _tag: "LocationRefused",
  message: `${what} ${path} cannot be used: ${v.path === path ? "it" : v.path} ${v.reason}`,
  hint,
});

const usable = (facts: HostFacts, what: string, place: Place, hint: string): E.Either<NookError, Place> => {
  const v = facts.ownDir(place.path);
  return v.kind === "foreign" ? E.left(refused(what, place.path, v, hint)) : E.right(place);
};

const STORE_HINT =
  "nook keeps its store only in a directory of yours: choose one with --root DIR or NOOK_STORAGE=DIR";

/** Local-disk places for the store, in order: /var/tmp/nook-UID, $TMPDIR/nook-storage-UID. */
const localStore = (facts: HostFacts): string | undefined => {
  const candidates = [
    `/var/tmp/nook-${facts.uid}`,
    ...(absolute(facts.env.TMPDIR) ? [join(facts.env.TMPDIR, `nook-storage-${facts.uid}`)] : []),
  ];
  return candidates.find(
    (c) =>
      facts.holdsPrivateDirs(join(c, "..")) &&
      facts.ownDir(c).kind !== "foreign" &&
      facts.statFs(c)?.network === false,
  );
};

export const storePlace = (
  facts: HostFacts,
  flags: LocationFlags,
  config: NookConfig,
  configPath: string,
): E.Either<NookError, StorePlace> => {
  const chosen: Place | undefined = absolute(flags.root)
    ? { path: flags.root, why: "--root" }
    : absolute(facts.env.NOOK_STORAGE)
      ? { path: facts.env.NOOK_STORAGE, why: "$NOOK_STORAGE" }
      : config.root !== undefined
        ? { path: config.root, why: `root in ${configPath}` }
        : undefined;
  if (chosen) return usable(facts, "the store", chosen, STORE_HINT);
  const xdg = absolute(facts.env.XDG_DATA_HOME) ? facts.env.XDG_DATA_HOME : undefined;
  const home = homeOf(facts);
  const base: Place | undefined = xdg
    ? { path: join(xdg, "nook"), why: "$XDG_DATA_HOME/nook" }
    : home
      ? {
          path: join(home.path, ".local", "share", "nook"),
          why: home.why === "$HOME" ? "~/.local/share/nook" : `~/.local/share/nook in ${home.why}`,
        }
      : undefined;
  const fs = base ? facts.statFs(base.path) : undefined;
  if (base && !fs?.network) return usable(facts, "the store", base, STORE_HINT);
  const local = localStore(facts);
  const reason = base
    ? `${base.path} is on ${fs?.type ?? "a network file system"}, which cannot hold files of subordinate ids nor overlay upper dirs reliably`
    : `you have no home directory of your own (HOME=${facts.env.HOME ?? "unset"})`;
  if (local === undefined)
    return E.left({
      _tag: "LocationRefused",
      message: `${reason}, and neither /var/tmp nor $TMPDIR gives a local directory of yours`,
      hint: STORE_HINT,
    });
  return E.right({
    path: local,
    why: `${reason}: moved to local disk`,
    moved: true,
    ...(base ? { movedFrom: base.path } : {}),
  });
};

const RUNTIME_HINT = "remove it, or set XDG_RUNTIME_DIR (or --runroot) to a directory of yours (mode 0700)";

export const runtimePlace = (
  facts: HostFacts,
  flags: LocationFlags,
  config: NookConfig,
  configPath: string,
): E.Either<NookError, Place> => {
  const { env, uid } = facts;
  const chosen: Place | undefined = absolute(flags.runroot)
    ? { path: flags.runroot, why: "--runroot" }
    : config.runroot !== undefined
      ? { path: config.runroot, why: `runroot in ${configPath}` }
      : undefined;
  if (chosen) return usable(facts, "the runtime directory", chosen, RUNTIME_HINT);
  const xdg = env.XDG_RUNTIME_DIR;
  if (absolute(xdg) && facts.ownDir(xdg).kind === "own")
    return usable(
      facts,
      "the runtime directory",
      { path: join(xdg, "nook"), why: "$XDG_RUNTIME_DIR/nook" },
      RUNTIME_HINT,
    );
  const xv = absolute(xdg) ? facts.ownDir(xdg) : undefined;
  const noSession =
    xv?.kind === "foreign"
      ? `$XDG_RUNTIME_DIR=${xdg} ${xv.path === xdg ? "" : `(${xv.path}) `}${xv.reason}`
      : xv?.kind === "creatable"
        ? `$XDG_RUNTIME_DIR=${xdg} does not exist`
        : "no $XDG_RUNTIME_DIR (no login session)";
  // TMPDIR counts when it is the user's own or sticky (a private dir made in it stays private).
  const tmp = env.TMPDIR;
  if (absolute(tmp) && facts.holdsPrivateDirs(tmp))
    return usable(
      facts,
      "the runtime directory",
      { path: join(tmp, `nook-${uid}`), why: `${noSession}: a private directory in $TMPDIR` },
      RUNTIME_HINT,
    );
  return usable(
    facts,
    "the runtime directory",
    { path: `/tmp/nook-${uid}`, why: `${noSession}: a private directory in /tmp` },
    RUNTIME_HINT,
  );
};
