// "User namespace only" mode (what `podman unshare` does): the helper
// unshares a user namespace, nook maps it, the helper execs a command as root
// of that namespace. Layer extraction and removal of subuid-owned files will
// run through the same path.
import { constants, userInfo } from "node:os";
import * as E from "fp-ts/lib/Either.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { pipe } from "fp-ts/lib/function.js";
import { startHelper, type HelperError, type HelperOp, type RunningHelper } from "./helper.js";
import { planIdMap, type IdMapPlan, type IdMapPlanError } from "./idmap.js";
import { applyIdMap, type IdMapError } from "./newidmap.js";
import { subidSource, type Owner } from "./subid.js";

export type UsernsError = HelperError | IdMapError | IdMapPlanError;

const { ENOSPC, EPERM, EACCES } = constants.errno;

export const currentOwner = (): Owner & { gid: number } => {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (some containers and HPC setups): match ranges by uid only.
  }
  return { id: uid, gid, name };
};

/** The id map this user's namespaces get, from /etc/subuid and /etc/subgid (or NSS: subid.ts). */
export const currentIdMapPlan: TE.TaskEither<UsernsError, IdMapPlan> = async () => {
  const who = currentOwner();
  const { uids, gids } = await subidSource(who);
  const planned = planIdMap({ uid: who.id, gid: who.gid, name: who.name }, uids, gids);
  return "plan" in planned ? E.right(planned.plan) : E.left(planned.error);
};

const rootIsSelf = (plan: IdMapPlan): boolean =>
  plan.kind === "root" ||
  (plan.uids.some((e) => e.inside === 0 && e.outside === (process.getuid?.() ?? 0)) &&
    plan.gids.some((e) => e.inside === 0 && e.outside === (process.getgid?.() ?? 0)));

/** Ops that make the helper root of a fresh, mapped user namespace. */
export const usernsOps = (plan: IdMapPlan, detached = false, hangup = false): HelperOp[] => [
  // nook killed with -9 must not leave the command running unseen (a
  // detached container's monitor is meant to outlive it). A foreground
  // container's helper gets a hangup instead of SIGKILL: its waiting parent
  // passes it on, kills pid 1 2 s later, and still cleans up (--rm).
  ...(detached ? [] : [{ op: hangup ? "hup-with-parent" : "die-with-parent" } as const]),
  { op: "userns" },
  // With a single-id map setgroups(2) is denied in the namespace; otherwise
  // drop the host's supplementary groups, which would show as nogroup.
  ...(plan.kind === "single" ? [] : [{ op: "setgroups-clear" } as const]),
  // Root of the namespace where root is the user (the usual map). Under a
  // keep-id map root is a subordinate id: the helper stays the user's own id,
  // which it is once the map is written (its capabilities in the namespace do
  // not depend on the id), so that the network helper, running as the user,
  // may still join its namespaces.
  ...(rootIsSelf(plan) ? [{ op: "setid", uid: 0, gid: 0 } as const] : []),
];

/** The fix for the ways a host refuses unprivileged user namespaces. */
const withUsernsHint = (e: UsernsError): UsernsError => {
  if (e._tag !== "HelperStepFailed" || e.step !== "unshare user namespace") return e;
  if (e.errno === ENOSPC)
    return {
      ...e,
      hint: "the limit of user namespaces is 0 or used up: see sysctl user.max_user_namespaces (as root: sysctl -w user.max_user_namespaces=28633)",
    };
  if (e.errno === EPERM || e.errno === EACCES)
    return {
      ...e,
      hint: "this host forbids unprivileged user namespaces: see sysctl kernel.unprivileged_userns_clone (Debian) or kernel.apparmor_restrict_unprivileged_userns (Ubuntu 24.04)",
    };
  return e;
};

/**
 * Runs argv as root of a new user namespace mapped by `plan`, after the
 * `more` ops (a container's setup) when given.
 */
export const unshareExec = (
  plan: IdMapPlan,
  argv: readonly string[],
  more: readonly HelperOp[] = [],
  spawnOpts: Parameters<typeof startHelper>[3] = {},
): TE.TaskEither<UsernsError, RunningHelper> =>
  pipe(
    startHelper<IdMapError>(
      [...usernsOps(plan, spawnOpts.detached, spawnOpts.hangupOnParentDeath), ...more],
      argv,
      (pid) => applyIdMap(pid, plan),
      spawnOpts,
    ),
    TE.mapLeft(withUsernsHint),
  );

export const runInUserns = (argv: readonly string[]): TE.TaskEither<UsernsError, RunningHelper> =>
  pipe(
    currentIdMapPlan,
    TE.chain((plan) => unshareExec(plan, argv)),
  );
