// The copy driver's helper op (nook-helper --copy-rootfs) on layer
// directories made by hand (test/support/make-layer-dirs.py) in both whiteout
// forms the unpacker writes, run as root of the test users' namespaces, as
// nook runs it. The tree it makes is compared in full with what overlayfs
// would show for the same layers.
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, runAs } from "../support/nook.js";
import { dumpTree, freshStore, type TestStore, type TreeEntry } from "../support/store.js";

const T = 978307200; // the time make-layer-dirs.py gives every entry

type Want = [type: TreeEntry["type"], uid: number, gid: number, mode: number, extra?: string];

/** What overlayfs shows for l3:l2:l1 (ids as root of a namespace with subordinate ids). */
const MERGED: Record<string, Want> = {
  a: ["dir", 0, 1, 0o750],
  "a/file": ["file", 0, 0, 0o644, "a/file from l2\n"],
  "a/kept": ["file", 1000, 1000, 0o600, "kept from l1\n"],
  "a/three": ["file", 1, 1, 0o640, "linked\n"],
  app: ["dir", 1000, 1000, 0o700],
  "app/secret": ["file", 1000, 1000, 0o600, "uid 1000 only\n"],
  "dir-to-file": ["file", 0, 0, 0o644, "now a file\n"],
  escape: ["dir", 0, 0, 0o755],
  "escape/pwned": ["file", 0, 0, 0o644, "must land in the rootfs\n"],
  fifo: ["fifo", 1, 1, 0o620],
  "file-to-dir": ["dir", 0, 0, 0o755],
  "file-to-dir/in": ["file", 0, 0, 0o644, "now a directory\n"],
  "gone-file": ["file", 0, 0, 0o644, "back in l3\n"],
  link: ["symlink", 1, 1, 0o777, "a/file"],
  links: ["dir", 0, 0, 0o755],
  "links/one": ["file", 1, 1, 0o640, "linked\n"],
  "links/two": ["file", 1, 1, 0o640, "linked\n"],
  opq: ["dir", 0, 0, 0o755],
  "opq/new": ["file", 0, 0, 0o644, "the only one left\n"],
  "overlay-meta": ["file", 0, 0, 0o644, "no overlay xattrs\n"],
  override: ["file", 0, 0, 0o644, "squashed\n"],
  ro: ["dir", 0, 0, 0o555],
  "ro/x": ["file", 0, 0, 0o644, "in a 0555 directory\n"],
  "ro/y": ["file", 0, 0, 0o644, "added to a 0555 directory\n"],
  setgid: ["file", 0, 1, 0o2755, "#!/bin/sh\n"],
  setuid: ["file", 0, 0, 0o4755, "#!/bin/sh\n"],
  sticky: ["dir", 0, 0, 0o1777],
  through: ["dir", 0, 0, 0o755],
};

/** The xattrs that must come along (user.*, override_stat) and none of the overlay's. */
const XATTRS: Record<string, Record<string, string>> = {
  "a/kept": { "user.note": "kept" },
  override: { "user.containers.override_stat": "1000:1000:0600" },
};

let script: string | undefined;
/** make-layer-dirs.py where every test user can run it. */
const makeLayers = (): string => {
  if (script) return script;
  const dir = mkdtempSync("/tmp/nook-layers-");
  chmodSync(dir, 0o755);
  script = join(dir, "make-layer-dirs.py");
  copyFileSync(fileURLToPath(new URL("../support/make-layer-dirs.py", import.meta.url)), script);
  chmodSync(script, 0o755);
  return script;
};
afterAll(() => {
  if (script) rmSync(join(script, ".."), { recursive: true, force: true });
});

const helper = (): string => join(inject("stage"), "dist", "nook-helper");

const shape = (e: TreeEntry): Want => {
  const extra = e.type === "symlink" ? e.target : e.content;
  return extra === undefined ? [e.type, e.uid, e.gid, e.mode] : [e.type, e.uid, e.gid, e.mode, extra];
};

for (const kind of ["sub", "nosub"] as const)
  describeAs(kind, `nook-helper --copy-rootfs (${kind})`, (user) => {
    // A store's directory only for its clean-up: no nook store is made in it.
    let s: TestStore;
    let work: string;
    const unshare = (argv: string[], env: Record<string, string> = {}) =>
      s.nook(["unshare", "--", ...argv], { env });

    beforeAll(async () => {
      s = await freshStore(user());
      work = s.dataHome;
      await runAs(user(), ["sh", "-c", `mkdir ${work}/outside && echo v > ${work}/outside/victim`]);
    });
    afterAll(async () => s.remove());

    for (const form of ["overlay", "keep"] as const) {
      it(`${form} whiteouts: builds the tree overlayfs shows, owners, modes, links, xattrs and times kept`, async () => {
        const u = user();
        const dir = `${work}/${form}`;
        // A single-id map has no other owners to give.
        const chown = { CHOWN: kind === "sub" ? "1" : "0" };
        const layers = ["python3", makeLayers(), dir, form, `${work}/outside`];
        const made = await unshare(["sh", "-c", `mkdir ${dir} && exec "$@"`, "sh", ...layers], chown);
        expect(made.stderr).toBe("");
        await runAs(u, ["mkdir", `${dir}/merged`]);
        const copy = await unshare([
          helper(),
          "--unshare",
          "mount",
          "--mount-private",
          "--copy-rootfs",
          dir,
          "l3:l2:l1",
          `${dir}/merged`,
          "--",
          "mountpoint",
          `${dir}/merged`,
        ]);
        expect(copy.stderr).toBe("");
        expect(copy.stdout).toBe(`${dir}/merged is a mountpoint\n`);

        // Times before anything reads the files (reading moves a relatime atime).
        const times = await unshare(["find", `${dir}/merged`, "-mindepth", "1", "-printf", "%T@ %A@ %p\n"]);
        const off = times.stdout
          .trim()
          .split("\n")
          .filter((l) => !l.startsWith(`${T}.0000000000 ${T}.0000000000 `));
        expect(off).toEqual([]);

        const tree = (await dumpTree(s, `${dir}/merged`)).sort((a, b) => a.path.localeCompare(b.path));
        const want = Object.entries(MERGED)
          .map(([p, w]): [string, Want] => [p, kind === "sub" ? w : ([w[0], 0, 0, ...w.slice(3)] as Want)])
          .sort(([a], [b]) => a.localeCompare(b));
        expect(tree.map((e) => [e.path, shape(e)])).toEqual(want);
        const byPath = new Map(tree.map((e) => [e.path, e]));
        const xattrs = Object.fromEntries(
          tree.filter((e) => Object.keys(e.xattrs ?? {}).length > 0).map((e) => [e.path, e.xattrs]),
        );
        expect(xattrs).toEqual(XATTRS);
        // One inode for the three names, as in the layer.
        const ino = byPath.get("links/one")?.ino;
        expect([byPath.get("links/two")?.ino, byPath.get("a/three")?.ino]).toEqual([ino, ino]);
        expect(byPath.get("links/one")?.nlink).toBe(3);

        // The layers are as they were, and nothing went through their symlinks.
        const l1 = await dumpTree(s, `${dir}/l1`);
        expect(l1.find((e) => e.path === "escape")).toMatchObject({
          type: "symlink",
          target: `${work}/outside`,
        });
        expect((await runAs(u, ["ls", "-A", `${work}/outside`])).stdout).toBe("victim\n");
      });
    }

    it("fails in one line naming the step and the layer", async () => {
      const u = user();
      await runAs(u, ["mkdir", "-p", `${work}/empty/merged`]);
      const r = await unshare([
        helper(),
        "--unshare",
        "mount",
        "--copy-rootfs",
        `${work}/empty`,
        "missing",
        `${work}/empty/merged`,
        "--",
        "true",
      ]);
      expect(r.code).toBe(125);
      expect(r.stderr).toBe("nook-helper: copy rootfs: open layer missing: No such file or directory\n");
    });
  });
