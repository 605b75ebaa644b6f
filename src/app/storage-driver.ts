// Which rootfs driver a container gets when the user names none: kernel
// overlayfs where the kernel mounts it in a user namespace (checked by
// mounting one, not guessed from the version: distributions patch this),
// else fuse-overlayfs, else copy (each container gets a copy of its image's
// layers: slow and costly in disk, but it needs nothing from the host). What
// the kernel does is kept in the store per kernel release, so the check costs
// one run, once; whether fuse-overlayfs is usable is looked at each time (it
// may be installed later).
import { accessSync, constants, mkdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { release } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { which } from "../lib/which.js";
import { currentIdMapPlan, unshareExec } from "../runtime/userns.js";
import type { Store } from "../store/store.js";

export type Driver = "overlay" | "fuse-overlayfs" | "copy";

/** Mounts an overlay as root of a fresh user namespace; true when the kernel allows it. */
export const overlayInUserns = async (scratch: string): Promise<boolean> => {
  const plan = await currentIdMapPlan();
  if (E.isLeft(plan)) return false;
  for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(scratch, d));
  const started = await unshareExec(
    plan.right,
    ["/bin/true"],
    [
      { op: "unshare", namespaces: ["mount"] },
      { op: "mount-private" },
      {
        op: "overlay",
        dir: scratch,
        lowers: ["lower"],
        upper: join(scratch, "upper"),
        work: join(scratch, "work"),
        target: join(scratch, "merged"),
      },
    ],
    { stdin: "ignore" },
  )();
  if (E.isLeft(started)) return false;
  const status = await started.right.exited;
  return status.code === 0;
};

/** overlayInUserns in a scratch directory made (and removed) under `parent`. */
export const probeOverlay = async (parent: string): Promise<boolean> => {
  const scratch = await mkdtemp(join(parent, `probe-${process.pid}-`));
  try {
    return await overlayInUserns(scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
};

export const devFuseUsable = (): boolean => {
  try {
    accessSync("/dev/fuse", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/** The driver that follows from whether kernel overlay works. */
export const driverFor = (overlay: boolean): Driver =>
  overlay ? "overlay" : which("fuse-overlayfs") && devFuseUsable() ? "fuse-overlayfs" : "copy";

const CACHE = "driver.json";

const cached = (store: Store): Driver | undefined => {
  try {
    const c = JSON.parse(readFileSync(join(store.root, CACHE), "utf8")) as {
      kernel?: unknown;
      driver?: unknown;
    };
    const known = c.driver === "overlay" || c.driver === "fuse-overlayfs" || c.driver === "copy";
    if (c.kernel !== release() || !known) return undefined;
    // Any answer but overlay says the kernel cannot: the rest is this host's tools now.
    return c.driver === "overlay" ? "overlay" : driverFor(false);
  } catch {
    return undefined;
  }
};

export const chooseDriver = async (store: Store): Promise<E.Either<NookError, Driver>> => {
  const known = cached(store);
  if (known) return E.right(known);
  const driver = driverFor(await probeOverlay(join(store.root, "tmp")));
  mkdirSync(store.root, { recursive: true });
  await store.writeAtomic(join(store.root, CACHE), JSON.stringify({ kernel: release(), driver }));
  return E.right(driver);
};
