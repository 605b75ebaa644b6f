// A container's status as an explicit state machine (youki container/state.rs):
// each verb checks its guard first, and the refusal is one line naming the
// container and its status, as Docker words it.
//
//   created --start--> running --(exit, stop, kill)--> exited --start--> running
//      |                                                  |
//      +--------------------rm----------------------------+--> removing --> (gone)
//
// "running" on disk is a claim; `observe` checks it against the processes
// that must exist for it to be true (the monitor, with the start time it had)
// and turns a stale claim into "exited" (a killed monitor, a reboot).
import * as E from "fp-ts/lib/Either.js";

export type ContainerStatus = "created" | "running" | "exited" | "removing";

export interface StatusView {
  readonly status: ContainerStatus;
  readonly name: string;
}

const refuse = (c: StatusView, what: string): E.Either<string, never> =>
  E.left(`container ${c.name} is ${c.status}: ${what}`);

export const canStart = (c: StatusView): E.Either<string, void> =>
  c.status === "created" || c.status === "exited"
    ? E.right(undefined)
    : refuse(c, c.status === "running" ? "it is already running" : "it cannot be started");

/** kill, exec, attach, top: a running container only. */
export const canSignal = (c: StatusView, verb: string): E.Either<string, void> =>
  c.status === "running" ? E.right(undefined) : refuse(c, `${verb} needs a running container`);

/** stop is a no-op on a container that is not running, as in Docker. */
export const needsStop = (c: StatusView): boolean => c.status === "running";

/** A container left "removing" by an interrupted rm may be removed again. */
export const canRemove = (c: StatusView, force: boolean): E.Either<string, void> =>
  c.status === "running" && !force ? refuse(c, "stop it first, or use rm -f") : E.right(undefined);

/** Docker's STATUS column: "Up 5 minutes", "Exited (0) 2 seconds ago", "Created". */
export const statusText = (
  s: {
    readonly status: ContainerStatus;
    readonly startedAt?: string | undefined;
    readonly finishedAt?: string | undefined;
    readonly exitCode?: number | undefined;
    readonly oomKilled?: boolean | undefined;
  },
  now: Date,
): string => {
  switch (s.status) {
    case "created":
      return "Created";
    case "removing":
      return "Removal In Progress";
    case "running":
      return `Up ${ago(s.startedAt, now)}`;
    case "exited":
      // Docker's shape, and the OOM kill after it (docker ps does not show it; inspect does).
      return `Exited (${s.exitCode ?? -1}) ${ago(s.finishedAt, now)} ago${s.oomKilled ? " (OOM killed)" : ""}`;
  }
};

/** Docker's go-units HumanDuration, which `docker ps` prints. */
export const humanDuration = (exact: number): string => {
  const seconds = Math.floor(exact);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${Math.floor(seconds)} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(seconds / 3600);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
};

/** How long ago `iso` was, in Docker's words ("" when it never was). */
export const ago = (iso: string | undefined, now: Date): string =>
  iso === undefined ? "" : humanDuration(Math.max(0, (now.getTime() - Date.parse(iso)) / 1000));
