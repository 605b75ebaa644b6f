// Helpers for integration tests that look into a test user's nook store:
// a fresh store per test (XDG_DATA_HOME in /tmp), a dump of a layer's tree
// as seen from inside the user's namespace, and the overlay stacking rules
// applied to those dumps, so the tests check nook's layers with code of
// their own.
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { nook, runAs, type RunResult } from "./nook.js";
import type { TestUser } from "./users.js";

export interface TreeEntry {
  readonly path: string;
  readonly type: "dir" | "file" | "symlink" | "char" | "block" | "fifo" | "socket";
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly ino: number;
  readonly nlink: number;
  readonly target?: string;
  readonly rdev?: [number, number];
  readonly content?: string;
  readonly xattrs?: Record<string, string>;
}

let dumper: string | undefined;
/** dump-tree.py where every test user can run it. */
const dumpScript = (): string => {
  if (dumper) return dumper;
  const dir = mkdtempSync("/tmp/nook-dump-");
  chmodSync(dir, 0o755);
  dumper = join(dir, "dump-tree.py");
  process.once("exit", () => rmSync(dirname(dumper!), { recursive: true, force: true }));
  copyFileSync(fileURLToPath(new URL("./dump-tree.py", import.meta.url)), dumper);
  chmodSync(dumper, 0o755);
  return dumper;
};

export interface TestStore {
  readonly user: TestUser;
  /** XDG_DATA_HOME for nook: the store is at `${dataHome}/nook`. */
  readonly dataHome: string;
  readonly env: Record<string, string>;
  /** nook ARGS as the user, with this store. */
  readonly nook: (
    args: readonly string[],
    opts?: { path?: string; env?: Record<string, string> },
  ) => Promise<RunResult>;
  readonly remove: () => Promise<void>;
}

export const freshStore = async (user: TestUser): Promise<TestStore> => {
  const dataHome = (await runAs(user, ["mktemp", "-d", "/tmp/nook-store-XXXXXX"])).stdout.trim();
  const env = { XDG_DATA_HOME: dataHome };
  return {
    user,
    dataHome,
    env,
    nook: (args, opts = {}) =>
      nook(user, args, {
        env: { ...env, ...opts.env },
        ...(opts.path ? { path: opts.path } : {}),
        timeoutMs: 120_000,
      }),
    remove: async () => {
      // Containers a failed test left running would outlive their store.
      const left = await nook(user, ["ps", "-aq", "--no-trunc"], { env });
      const ids = left.stdout.split("\n").filter((l) => /^[0-9a-f]{64}$/.test(l));
      if (ids.length > 0) await nook(user, ["rm", "-f", ...ids], { env });
      // Layer files belong to subordinate ids: remove them from inside the namespace.
      await nook(user, ["unshare", "rm", "-rf", dataHome]);
      rmSync(dataHome, { recursive: true, force: true });
    },
  };
};

/** A directory's entries as namespace root sees them (through nook unshare). */
export const dumpTree = async (store: TestStore, dir: string): Promise<TreeEntry[]> => {
  const r = await nook(store.user, ["unshare", "python3", dumpScript(), dir]);
  if (r.code !== 0) throw new Error(`dump-tree ${dir} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as TreeEntry[];
};

/** The same directory as the user sees it from outside (host ids). */
export const dumpTreeOutside = async (store: TestStore, dir: string): Promise<TreeEntry[]> => {
  const r = await runAs(store.user, ["python3", dumpScript(), dir]);
  if (r.code !== 0) throw new Error(`dump-tree ${dir} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as TreeEntry[];
};

const isWhiteout = (e: TreeEntry): boolean => e.type === "char" && e.rdev?.[0] === 0 && e.rdev?.[1] === 0;
const isOpaque = (e: TreeEntry): boolean =>
  e.type === "dir" &&
  (e.xattrs?.["user.overlay.opaque"] === "y" || e.xattrs?.["trusted.overlay.opaque"] === "y");

/** Overlayfs's view of layers (lowest first): whiteouts delete, opaque directories hide what is below. */
export const stack = (layers: readonly TreeEntry[][]): Map<string, TreeEntry> => {
  const merged = new Map<string, TreeEntry>();
  const dropBelow = (dir: string): void => {
    for (const p of [...merged.keys()]) if (p.startsWith(`${dir}/`)) merged.delete(p);
  };
  for (const layer of layers) {
    for (const e of layer) {
      if (isWhiteout(e)) {
        merged.delete(e.path);
        dropBelow(e.path);
        continue;
      }
      if (isOpaque(e)) dropBelow(e.path);
      merged.set(e.path, e);
    }
  }
  return merged;
};

/** The stacked tree of the fixture image "layers" is what scripts/fixtures/layers.py says it is. */
export const expectLayersStack = (fixtures: string, merged: Map<string, TreeEntry>): void => {
  const expected = JSON.parse(readFileSync(join(fixtures, "layers-expected.json"), "utf8")) as {
    absent: string[];
    present: Record<string, [string, ...unknown[]]>;
  };
  for (const p of expected.absent) expect(merged.has(p), `${p} should be gone`).toBe(false);
  for (const [p, want] of Object.entries(expected.present)) {
    const got = merged.get(p);
    expect(got, `${p} is missing`).toBeDefined();
    const [kind] = want;
    if (kind === "file" || kind === "dir") {
      const [, uid, gid, mode, content] = want as [string, number, number, number, string?];
      expect({ path: p, type: got!.type, uid: got!.uid, gid: got!.gid, mode: got!.mode }).toEqual({
        path: p,
        type: kind,
        uid,
        gid,
        mode,
      });
      if (content !== undefined) expect(got!.content).toBe(content);
    } else if (kind === "symlink") {
      expect(got).toMatchObject({ type: "symlink", target: want[1] });
    } else if (kind === "hardlink") {
      expect(got!.ino).toBe(merged.get(want[1] as string)!.ino);
      expect(got!.nlink).toBeGreaterThanOrEqual(2);
    }
  }
};

/** The busybox fixture's one layer, as umoci and layers.py made it. */
export const expectBusyboxLayer = (tree: readonly TreeEntry[]): void => {
  expect(tree.find((e) => e.path === "bin/busybox")).toMatchObject({
    type: "file",
    uid: 0,
    gid: 0,
    mode: 0o755,
  });
  expect(tree.find((e) => e.path === "bin/sh")).toMatchObject({ type: "symlink", target: "busybox" });
  expect(tree.find((e) => e.path === "tmp")).toMatchObject({ type: "dir", mode: 0o1777 });
  expect(tree.find((e) => e.path === "home/app")).toMatchObject({ uid: 1000, gid: 1000 });
};
