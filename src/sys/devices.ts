// The host's device nodes this user may open (--privileged binds them into
// the container, as rootless Podman does: a user namespace can bind a device
// node but never make one). Walks /dev, leaving out what a container's /dev
// has of its own (its pts, shm and mqueue, the pty multiplexer, the console).
import { accessSync, constants, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

const OWN = new Set([
  "/dev/pts",
  "/dev/shm",
  "/dev/mqueue",
  "/dev/ptmx",
  "/dev/console",
  "/dev/core",
  "/dev/fd",
]);

const openable = (path: string): boolean => {
  for (const mode of [constants.R_OK, constants.W_OK]) {
    try {
      accessSync(path, mode);
      return true;
    } catch {
      // not this way
    }
  }
  return false;
};

/** Paths under /dev, depth first, of character and block devices the caller can read or write. */
export const userDevices = (dir = "/dev", depth = 0): string[] => {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (OWN.has(path)) return [];
    try {
      const st = lstatSync(path);
      if (st.isDirectory()) return depth < 3 ? userDevices(path, depth + 1) : [];
      return (st.isCharacterDevice() || st.isBlockDevice()) && openable(path) ? [path] : [];
    } catch {
      return [];
    }
  });
};
