// Where the store and the runtime directory go, on hosts this machine cannot
// be: homes on NFS, Lustre, GPFS, BeeGFS and CIFS (statfs stubbed: the
// kernel here has no network file system to mount), HOME of another user,
// no home at all, planted directories.
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { statFs } from "../../../src/sys/fs-type.js";
import type { DirVerdict } from "../../../src/sys/own-dir.js";
import { configHome, homeOf, runtimePlace, storePlace, type HostFacts } from "../../../src/store/location.js";

const UID = 1001;

interface FakeDir {
  readonly uid: number;
  readonly mode: number;
}

/** A host of directories (path -> owner, mode) and mounts (path prefix -> statfs magic). */
const host = (
  dirs: Record<string, FakeDir>,
  mounts: Record<string, number>,
  env: Record<string, string>,
  passwdHome: string | undefined = "/home/u",
): HostFacts => {
  const parent = (p: string): string => p.slice(0, p.lastIndexOf("/")) || "/";
  const magicOf = (p: string): number => {
    const prefix = Object.keys(mounts)
      .filter((m) => p === m || p.startsWith(m === "/" ? "/" : `${m}/`))
      .sort((a, b) => b.length - a.length)[0];
    return mounts[prefix ?? "/"] ?? 0xef53;
  };
  const ownDir = (p: string): DirVerdict => {
    const d = dirs[p];
    if (d) {
      if (d.uid !== UID)
        return { kind: "foreign", path: p, reason: `belongs to uid ${d.uid}, not to you (${UID})` };
      if (d.mode & 0o022) return { kind: "foreign", path: p, reason: "is writable by others" };
      return { kind: "own" };
    }
    for (let q = parent(p); ; q = parent(q)) {
      const e = dirs[q];
      if (e) {
        return e.uid === UID || (e.mode & 0o1000) !== 0
          ? { kind: "creatable", parent: q }
          : { kind: "foreign", path: q, reason: `belongs to uid ${e.uid}, not to you (${UID})` };
      }
      if (q === "/") return { kind: "foreign", path: "/", reason: "missing" };
    }
  };
  return {
    env,
    uid: UID,
    passwdHome,
    ownDir,
    ownerOf: (p) => dirs[p]?.uid,
    holdsPrivateDirs: (p) => {
      const d = dirs[p];
      return d !== undefined && (d.uid === UID || (d.mode & 0o1000) !== 0);
    },
    statFs: (p) =>
      statFs(p, (q) => ({ type: magicOf(q), bsize: 4096, blocks: 1000, bavail: 500, files: 100, ffree: 50 })),
  };
};

const BASE: Record<string, FakeDir> = {
  "/": { uid: 0, mode: 0o755 },
  "/home": { uid: 0, mode: 0o755 },
  "/home/u": { uid: UID, mode: 0o755 },
  "/var": { uid: 0, mode: 0o755 },
  "/var/tmp": { uid: 0, mode: 0o1777 },
  "/tmp": { uid: 0, mode: 0o1777 },
  "/root": { uid: 0, mode: 0o700 },
};

const NETWORK: Record<string, number> = {
  nfs: 0x6969,
  lustre: 0x0bd00bd0,
  gpfs: 0x47504653,
  beegfs: 0x19830326,
  cifs: 0xff534d42,
};

const store = (facts: HostFacts, flags = {}, config = {}) => storePlace(facts, flags, config, "/cfg");

describe("the store", () => {
  it("is ~/.local/share/nook on a local disk", () => {
    expect(store(host(BASE, { "/": 0xef53 }, { HOME: "/home/u" }))).toEqual(
      E.right({ path: "/home/u/.local/share/nook", why: "~/.local/share/nook" }),
    );
  });

  it("follows XDG_DATA_HOME", () => {
    const dirs = { ...BASE, "/data": { uid: UID, mode: 0o700 } };
    expect(store(host(dirs, {}, { HOME: "/home/u", XDG_DATA_HOME: "/data" }))).toEqual(
      E.right({ path: "/data/nook", why: "$XDG_DATA_HOME/nook" }),
    );
  });

  for (const [name, magic] of Object.entries(NETWORK))
    it(`moves to /var/tmp/nook-UID when the home is on ${name}, and says why`, () => {
      const r = store(host(BASE, { "/home": magic }, { HOME: "/home/u" }));
      expect(r).toEqual(
        E.right({
          path: `/var/tmp/nook-${UID}`,
          why: `/home/u/.local/share/nook is on ${name}, which cannot hold files of subordinate ids nor overlay upper dirs reliably: moved to local disk`,
          moved: true,
          movedFrom: "/home/u/.local/share/nook",
        }),
      );
    });

  it("uses $TMPDIR when /var/tmp is on the network file system too", () => {
    const dirs = { ...BASE, "/scratch": { uid: UID, mode: 0o700 } };
    const r = store(host(dirs, { "/home": 0x6969, "/var": 0x6969 }, { HOME: "/home/u", TMPDIR: "/scratch" }));
    expect(E.isRight(r) && r.right.path).toBe(`/scratch/nook-storage-${UID}`);
  });

  it("fails with the reason when no local place is left", () => {
    const r = store(host(BASE, { "/": 0x6969 }, { HOME: "/home/u" }));
    expect(E.isLeft(r) && r.left.message).toMatch(/is on nfs.*neither \/var\/tmp nor \$TMPDIR/);
  });

  it("skips a /var/tmp/nook-UID planted by another user", () => {
    const dirs = {
      ...BASE,
      [`/var/tmp/nook-${UID}`]: { uid: 1002, mode: 0o777 },
      "/s": { uid: UID, mode: 0o700 },
    };
    const r = store(host(dirs, { "/home": 0x6969 }, { HOME: "/home/u", TMPDIR: "/s" }));
    expect(E.isRight(r) && r.right.path).toBe(`/s/nook-storage-${UID}`);
  });

  it("keeps a place the user chose, in the order --root, NOOK_STORAGE, config.toml", () => {
    const dirs = { ...BASE, "/a": { uid: UID, mode: 0o700 }, "/b": { uid: UID, mode: 0o700 } };
    const facts = host(dirs, { "/a": 0x6969 }, { HOME: "/home/u", NOOK_STORAGE: "/b/s" });
    expect(store(facts, { root: "/a/s" }, { root: "/c" })).toEqual(E.right({ path: "/a/s", why: "--root" }));
    expect(store(facts, {}, { root: "/c" })).toEqual(E.right({ path: "/b/s", why: "$NOOK_STORAGE" }));
    const noEnv = host(dirs, {}, { HOME: "/home/u" });
    expect(store(noEnv, {}, { root: "/a/c" })).toEqual(E.right({ path: "/a/c", why: "root in /cfg" }));
  });

  it("refuses another user's store, however it is named", () => {
    const dirs = {
      ...BASE,
      "/tmp/theirs": { uid: 1002, mode: 0o700 },
      "/tmp/theirs/nook": { uid: 1002, mode: 0o700 },
    };
    const viaXdg = store(host(dirs, {}, { HOME: "/home/u", XDG_DATA_HOME: "/tmp/theirs" }));
    expect(E.isLeft(viaXdg) && viaXdg.left.message).toBe(
      `the store /tmp/theirs/nook cannot be used: it belongs to uid 1002, not to you (${UID})`,
    );
    const viaRoot = store(host(dirs, {}, { HOME: "/home/u" }), { root: "/tmp/theirs/nook" });
    expect(E.isLeft(viaRoot)).toBe(true);
  });

  it("ignores a HOME of another user (setpriv keeps root's) for the passwd home", () => {
    const facts = host(BASE, {}, { HOME: "/root" });
    expect(homeOf(facts)).toEqual({ path: "/home/u", why: "your home in passwd ($HOME=/root is not yours)" });
    expect(store(facts)).toEqual(
      E.right({
        path: "/home/u/.local/share/nook",
        why: "~/.local/share/nook in your home in passwd ($HOME=/root is not yours)",
      }),
    );
    expect(configHome(facts)).toBe("/home/u/.config");
  });

  it("goes to local disk when there is no home of the user's at all", () => {
    const r = store(host(BASE, {}, { HOME: "/nonexistent" }, "/nonexistent"));
    expect(r).toEqual(
      E.right({
        path: `/var/tmp/nook-${UID}`,
        why: "you have no home directory of your own (HOME=/nonexistent): moved to local disk",
        moved: true,
      }),
    );
  });
});

const runtime = (facts: HostFacts, flags = {}, config = {}) => runtimePlace(facts, flags, config, "/cfg");

describe("the runtime directory", () => {
  const session = {
    ...BASE,
    "/run/user/1001": { uid: UID, mode: 0o700 },
    "/run/user/0": { uid: 0, mode: 0o700 },
  };

  it("is $XDG_RUNTIME_DIR/nook in a login session", () => {
    expect(runtime(host(session, {}, { XDG_RUNTIME_DIR: "/run/user/1001" }))).toEqual(
      E.right({ path: "/run/user/1001/nook", why: "$XDG_RUNTIME_DIR/nook" }),
    );
  });

  it("is /tmp/nook-UID without one", () => {
    expect(runtime(host(session, {}, {}))).toEqual(
      E.right({
        path: `/tmp/nook-${UID}`,
        why: "no $XDG_RUNTIME_DIR (no login session): a private directory in /tmp",
      }),
    );
  });

  it("never uses another user's XDG_RUNTIME_DIR", () => {
    const r = runtime(host(session, {}, { XDG_RUNTIME_DIR: "/run/user/0" }));
    expect(r).toEqual(
      E.right({
        path: `/tmp/nook-${UID}`,
        why: `$XDG_RUNTIME_DIR=/run/user/0 belongs to uid 0, not to you (${UID}): a private directory in /tmp`,
      }),
    );
  });

  it("uses $TMPDIR when it is the user's or sticky, not when it is someone else's", () => {
    const dirs = { ...session, "/job": { uid: UID, mode: 0o700 }, "/other": { uid: 1002, mode: 0o777 } };
    const mine = runtime(host(dirs, {}, { TMPDIR: "/job" }));
    expect(E.isRight(mine) && mine.right.path).toBe(`/job/nook-${UID}`);
    const theirs = runtime(host(dirs, {}, { TMPDIR: "/other" }));
    expect(E.isRight(theirs) && theirs.right.path).toBe(`/tmp/nook-${UID}`);
  });

  it("refuses /tmp/nook-UID planted by another user", () => {
    const dirs = { ...session, [`/tmp/nook-${UID}`]: { uid: 1002, mode: 0o700 } };
    const r = runtime(host(dirs, {}, {}));
    expect(E.isLeft(r) && r.left.message).toBe(
      `the runtime directory /tmp/nook-${UID} cannot be used: it belongs to uid 1002, not to you (${UID})`,
    );
  });

  it("takes --runroot, then runroot in config.toml", () => {
    const dirs = { ...session, "/r": { uid: UID, mode: 0o700 } };
    expect(runtime(host(dirs, {}, {}), { runroot: "/r/a" }, { runroot: "/r/b" })).toEqual(
      E.right({ path: "/r/a", why: "--runroot" }),
    );
    expect(runtime(host(dirs, {}, {}), {}, { runroot: "/r/b" })).toEqual(
      E.right({ path: "/r/b", why: "runroot in /cfg" }),
    );
  });
});
