// nook system reset: everything nook keeps, gone: its containers (running
// ones killed first, with their network helpers), the store (removed inside
// the user namespace, where the files of subordinate ids can be removed),
// the runtime directory when nothing else is left in it (another store's
// containers may have sockets there) and the start-up code cache. Credentials stay: they
// are shared with Podman and Docker (auth.json), not nook's own.
import { existsSync, rmdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { currentIdMapPlan, unshareExec } from "../runtime/userns.js";
import { Containers } from "../store/containers.js";
import { Store } from "../store/store.js";
import { isOwnDir } from "../sys/own-dir.js";
import { removeContainer } from "./containers.js";
import { homeOf } from "../store/location.js";
import { hostFacts, runtimeLocation, storeLocation } from "./locations.js";

export interface ResetPlan {
  readonly store: string;
  readonly runtime: string | undefined;
  readonly cache: string | undefined;
}

/** What reset would remove, for the question it asks first. */
export const resetPlan = (): E.Either<NookError, ResetPlan> => {
  const store = storeLocation();
  if (E.isLeft(store)) return store;
  const runtime = runtimeLocation();
  const facts = hostFacts();
  // Where dist/nook's launcher keeps its V8 code cache.
  const home = homeOf(facts);
  const cacheBase = facts.env.XDG_CACHE_HOME?.startsWith("/")
    ? facts.env.XDG_CACHE_HOME
    : home && join(home.path, ".cache");
  return E.right({
    store: store.right.path,
    runtime: E.isRight(runtime) ? runtime.right.path : undefined,
    cache: cacheBase ? join(cacheBase, "nook") : undefined,
  });
};

/** Removes what the plan names; resolves to the paths that are gone. */
export const systemReset = async (plan: ResetPlan): Promise<E.Either<NookError, string[]>> => {
  const gone: string[] = [];
  if (existsSync(plan.store)) {
    if (!isOwnDir(plan.store))
      return E.left({
        _tag: "ResetFailed",
        message: `${plan.store} is not a directory of yours: nothing removed`,
      });
    const store = new Store(plan.store);
    for (const c of new Containers(store).list()) {
      const r = await removeContainer(store, c.id, true);
      if (E.isLeft(r)) return r;
      // A killed container's slirp4netns may not have unlinked its API socket yet.
      if (plan.runtime) rmSync(join(plan.runtime, `slirp-${c.id.slice(0, 12)}.sock`), { force: true });
    }
    // Layers hold files of subordinate ids: only root of the user namespace may remove them.
    const ids = await currentIdMapPlan();
    if (E.isLeft(ids)) return ids;
    const started = await unshareExec(ids.right, ["rm", "-rf", "--", plan.store], [], { stdin: "ignore" })();
    if (E.isLeft(started)) return started;
    const status = await started.right.exited;
    if (status.code !== 0 || existsSync(plan.store))
      return E.left({
        _tag: "ResetFailed",
        message: `rm -rf ${plan.store} in the user namespace failed (exit ${status.code ?? status.signal})`,
        hint: `remove what is left with: nook unshare rm -rf ${plan.store}`,
      });
    gone.push(plan.store);
  }
  // The runtime dir may hold the sockets of another store's containers (nook
  // --root elsewhere): it goes only once this store's are gone and it is empty.
  if (plan.runtime !== undefined && existsSync(plan.runtime) && isOwnDir(plan.runtime))
    try {
      rmdirSync(plan.runtime);
      gone.push(plan.runtime);
    } catch {
      // another store's sockets are in it
    }
  if (plan.cache !== undefined && existsSync(plan.cache) && isOwnDir(plan.cache)) {
    rmSync(plan.cache, { recursive: true, force: true });
    gone.push(plan.cache);
  }
  return E.right(gone);
};
