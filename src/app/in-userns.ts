// Commands that write or remove files owned by subordinate ids (pull, rmi)
// run their use case as root of the user's user namespace: the command
// re-executes nook there through nook-helper, and the inner run knows it by
// an environment variable. One extra process start (~0.1 s) per command,
// instead of a protocol for shipping layer streams into a worker.
import { readFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { storeLocation } from "./locations.js";
import { unshare } from "./unshare.js";

const MARK = "_NOOK_IN_USERNS";

export const insideUserns = (): boolean => process.env[MARK] === "1";

/**
 * Whether this namespace maps more than one id, so that files can be given
 * the image's owners (a subuid range), or everything belongs to the user.
 */
export const fullIdMap = (): boolean => {
  try {
    const lines = readFileSync("/proc/self/uid_map", "utf8").trim().split("\n");
    const total = lines.reduce((n, l) => n + Number(l.trim().split(/\s+/)[2] ?? 0), 0);
    return total > 1;
  } catch {
    return false;
  }
};

/** Runs `nook ARGS` as root of the user's namespace; resolves to its exit status. */
export const reexecInUserns = async (args: readonly string[]): Promise<E.Either<NookError, number>> => {
  // Decided out here, where the uid is the user's (inside it is 0), and inherited.
  const store = storeLocation();
  if (E.isLeft(store)) return store;
  process.env[MARK] = "1";
  const entry = process.argv[1] ?? "nook";
  return unshare([process.execPath, entry, ...args]);
};
