// The verbs on containers that exist: their status as observed (never a
// stale "running"), start, stop, kill, wait, remove. Each verb takes the
// container's lock and checks its guard first (runtime/state.ts).
import { closeSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { canRemove, canSignal, canStart, type ContainerStatus } from "../runtime/state.js";
import { currentIdMapPlan, unshareExec } from "../runtime/userns.js";
import { Containers } from "../store/containers.js";
import type { ContainerRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { pidfdOpen, pidfdSendSignal } from "../sys/libc.js";
import { bootId, stillRunning } from "../sys/proc.js";
import type { Limits } from "../cgroups/limits.js";
import { applyLimits, release } from "../cgroups/manager.js";
import { launchDetached } from "./launch.js";

export interface ContainerView {
  readonly record: ContainerRecord;
  readonly status: ContainerStatus;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly exitCode?: number;
  /** The cgroup of its current or last run, under /sys/fs/cgroup. */
  readonly cgroupPath?: string;
  /** The OOM killer killed in the container's cgroup during its last run. */
  readonly oomKilled?: boolean;
  /** The container's pid 1 on the host, while it runs. */
  readonly pid?: number;
  /** The monitor (or foreground helper) watching the run. */
  readonly monitorPid?: number;
}

const fail = (message: string, hint?: string): E.Either<NookError, never> =>
  E.left({ _tag: "ContainerFailed", message, ...(hint ? { hint } : {}) });

/**
 * What the container's files say, checked against the processes: a run whose
 * monitor is gone (killed, or a reboot since) is over, and its exit is written
 * down now so that it reads the same next time.
 */
export const observe = async (containers: Containers, record: ContainerRecord): Promise<ContainerView> => {
  const id = record.id;
  if (containers.removing(id)) return { record, status: "removing" };
  const started = containers.started(id);
  if (!started) return { record, status: "created" };
  // Every start clears the last run's exit first: one here is this run's
  // (written before nook could record the start, for a command that ends at once).
  const exit = containers.exit(id);
  const cgroup = containers.cgroup(id);
  const base = {
    record,
    startedAt: started.startedAt,
    monitorPid: started.monitorPid,
    ...(cgroup ? { cgroupPath: cgroup.path } : {}),
  };
  if (exit)
    return {
      ...base,
      status: "exited",
      finishedAt: exit.finishedAt,
      exitCode: exit.exitCode,
      ...(exit.oomKilled ? { oomKilled: true } : {}),
    };
  const alive = started.bootId === bootId() && stillRunning(started.monitorPid, started.monitorStart);
  const pid = containers.pid(id)?.pid;
  if (alive) return { ...base, status: "running", ...(pid !== undefined ? { pid } : {}) };
  // The monitor died without a word (SIGKILL, a reboot): pid 1 died with it
  // (its parent-death signal), as did everything in its pid namespace.
  endNetworkHelper(containers, record);
  // A cgroup of ours (cgroupfs) would stay; a systemd scope has gone with its processes.
  if (cgroup) await release(cgroup);
  const repaired = { exitCode: 137, signal: 9, finishedAt: new Date().toISOString() };
  try {
    await containers.writeExit(id, repaired);
  } catch {
    // the directory went meanwhile
  }
  return { ...base, status: "exited", finishedAt: repaired.finishedAt, exitCode: repaired.exitCode };
};

/**
 * The network helper of a run whose monitor died unannounced (the monitor
 * would have ended it): found by the pid it left, and only if that process
 * still names this container on its command line.
 */
export const endNetworkHelperIn = (dir: string): void => {
  const id = dir.split("/").pop() ?? "";
  try {
    const pid = Number(readFileSync(join(dir, "net.pid"), "utf8"));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (/^[0-9a-f]{64}$/.test(id) && /(pasta|slirp4netns)/.test(cmdline) && cmdline.includes(id.slice(0, 12)))
      process.kill(pid, "SIGTERM");
  } catch {
    // none, or gone already
  }
};

const endNetworkHelper = (containers: Containers, record: ContainerRecord): void =>
  endNetworkHelperIn(containers.dir(record.id));

export const findContainer = async (
  store: Store,
  ref: string,
): Promise<E.Either<NookError, ContainerView>> => {
  const containers = new Containers(store);
  const found = containers.resolve(ref);
  if (E.isLeft(found)) return found;
  return E.right(await observe(containers, found.right));
};

/** Every container, observed; --rm containers whose monitor died are removed on the way (their monitor would have). */
export const listContainers = async (store: Store): Promise<ContainerView[]> => {
  const containers = new Containers(store);
  const out: ContainerView[] = [];
  for (const record of containers.list()) {
    const view = await observe(containers, record);
    if (view.status === "exited" && record.spec.removeAfter) {
      await removeDir(store, record.id);
      continue;
    }
    out.push(view);
  }
  return out.sort((a, b) => b.record.created.localeCompare(a.record.created));
};

const withLock = async <A>(
  store: Store,
  id: string,
  f: () => Promise<E.Either<NookError, A>>,
): Promise<E.Either<NookError, A>> => {
  const release = await new Containers(store).lock(id);
  if (E.isLeft(release)) return release;
  try {
    return await f();
  } finally {
    await release.right();
  }
};

/** Starts a container detached; `waitAttach` has its monitor hold the output until nook attach connects (start -a). */
export const startContainer = async (
  store: Store,
  ref: string,
  opts: { readonly waitAttach?: boolean } = {},
): Promise<E.Either<NookError, ContainerView>> => {
  const found = await findContainer(store, ref);
  if (E.isLeft(found)) return found;
  return withLock(store, found.right.record.id, async () => {
    const now = await observe(new Containers(store), found.right.record);
    const ok = canStart({ status: now.status, name: now.record.name });
    if (E.isLeft(ok)) return fail(ok.left);
    const started = await launchDetached(store, now.record, opts);
    return E.isLeft(started) ? started : E.right(await observe(new Containers(store), now.record));
  });
};

/** A signal by name (KILL, SIGKILL) or number, as docker kill -s takes it. */
export const signalNumber = (s: string): number | undefined => {
  if (/^\d+$/.test(s)) return Number(s) > 0 && Number(s) < 65 ? Number(s) : undefined;
  const name = s.toUpperCase().startsWith("SIG") ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  return (constants.signals as Record<string, number>)[name];
};

/** Sends `signal` to the container's pid 1 through a pidfd: never to a process that took its pid since. */
const signalPid1 = async (
  store: Store,
  view: ContainerView,
  signal: number,
): Promise<E.Either<NookError, void>> => {
  if (view.pid === undefined) return fail(`container ${view.record.name} has no pid recorded yet`);
  const fd = await pidfdOpen(view.pid);
  if (E.isLeft(fd)) return fail(`container ${view.record.name}: its pid 1 is gone`);
  // The pidfd was opened while the monitor still ran, so the pid was pid 1's.
  if ((await observe(new Containers(store), view.record)).status !== "running")
    return fail(`container ${view.record.name} is not running`);
  const sent = await pidfdSendSignal(fd.right, signal);
  closeSync(fd.right);
  return E.isLeft(sent)
    ? fail(`signal container ${view.record.name}: errno ${sent.left.errno}`)
    : E.right(undefined);
};

export const killContainer = async (
  store: Store,
  ref: string,
  signal: number,
): Promise<E.Either<NookError, ContainerView>> => {
  const found = await findContainer(store, ref);
  if (E.isLeft(found)) return found;
  return withLock(store, found.right.record.id, async () => {
    const view = await observe(new Containers(store), found.right.record);
    const ok = canSignal({ status: view.status, name: view.record.name }, "kill");
    if (E.isLeft(ok)) return fail(ok.left);
    const sent = await signalPid1(store, view, signal);
    return E.isLeft(sent) ? sent : E.right(view);
  });
};

/** Polls until the run is over, or `ms` pass; resolves to the last view. */
export const waitExit = async (
  store: Store,
  record: ContainerRecord,
  ms = Infinity,
): Promise<ContainerView> => {
  const containers = new Containers(store);
  const deadline = Date.now() + ms;
  for (;;) {
    if (!existsSync(record.spec.dir)) return { record, status: "exited" };
    const view = await observe(containers, record);
    if (view.status !== "running" || Date.now() >= deadline) return view;
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** docker stop: the stop signal, then SIGKILL after `seconds`; a container that is not running is left as it is. */
export const stopContainer = async (
  store: Store,
  ref: string,
  seconds: number,
): Promise<E.Either<NookError, ContainerView>> => {
  const found = await findContainer(store, ref);
  if (E.isLeft(found)) return found;
  return withLock(store, found.right.record.id, async () => {
    const view = await observe(new Containers(store), found.right.record);
    if (view.status !== "running") return E.right(view);
    const sig = signalNumber(view.record.stopSignal) ?? constants.signals.SIGTERM;
    await signalPid1(store, view, sig);
    const after = await waitExit(store, view.record, seconds * 1000);
    if (after.status !== "running") return E.right(after);
    await signalPid1(store, after, constants.signals.SIGKILL);
    return E.right(await waitExit(store, view.record));
  });
};

/** Removes the container's directory; its files of subordinate ids from inside the user namespace. */
const removeDir = async (store: Store, id: string): Promise<E.Either<NookError, void>> => {
  const containers = new Containers(store);
  const dir = containers.dir(id);
  try {
    writeFileSync(join(dir, "removing"), "");
  } catch {
    return E.right(undefined); // already gone
  }
  // The last run's cgroup goes with the container (a systemd scope normally has gone with its processes).
  const cgroup = containers.cgroup(id);
  if (cgroup) await release(cgroup);
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    const plan = await currentIdMapPlan();
    if (E.isLeft(plan)) return plan;
    const started = await unshareExec(plan.right, ["rm", "-rf", "--", dir], [], { stdin: "ignore" })();
    if (E.isLeft(started)) return started;
    await started.right.exited;
  }
  return existsSync(dir) ? fail(`could not remove ${dir}`) : E.right(undefined);
};

/**
 * Waits (5 s at most) for the monitor of the last run to finish what it does
 * after recording the exit (ending pasta, unmounting), so that rm leaves no
 * process of the container behind.
 */
const monitorGone = async (containers: Containers, id: string): Promise<void> => {
  const started = containers.started(id);
  if (!started || started.bootId !== bootId()) return;
  for (let i = 0; i < 100 && stillRunning(started.monitorPid, started.monitorStart); i++)
    await new Promise((r) => setTimeout(r, 50));
};

export const removeContainer = async (
  store: Store,
  ref: string,
  force: boolean,
): Promise<E.Either<NookError, ContainerView>> => {
  const found = await findContainer(store, ref);
  if (E.isLeft(found)) return found;
  return withLock(store, found.right.record.id, async () => {
    let view = await observe(new Containers(store), found.right.record);
    const ok = canRemove({ status: view.status, name: view.record.name }, force);
    if (E.isLeft(ok)) return fail(ok.left);
    if (view.status === "running") {
      await signalPid1(store, view, constants.signals.SIGKILL);
      view = await waitExit(store, view.record, 10_000);
      if (view.status === "running") return fail(`container ${view.record.name} did not end after SIGKILL`);
    }
    await monitorGone(new Containers(store), view.record.id);
    const removed = await removeDir(store, view.record.id);
    return E.isLeft(removed) ? removed : E.right(view);
  });
};

/** docker update: new limits, kept for later starts and applied to a running container's cgroup. */
export const updateContainer = async (
  store: Store,
  ref: string,
  limits: Limits,
): Promise<E.Either<NookError, ContainerView>> => {
  const found = await findContainer(store, ref);
  if (E.isLeft(found)) return found;
  return withLock(store, found.right.record.id, async () => {
    const containers = new Containers(store);
    const view = await observe(containers, found.right.record);
    const record = view.record;
    const merged = { ...(record.spec.limits ?? {}), ...limits };
    if (view.status === "running") {
      const placement = containers.cgroup(record.id);
      if (!placement)
        return fail(
          `container ${record.name} runs without a cgroup of its own: its limits cannot change`,
          "nook info says why this host gives none",
        );
      const applied = await applyLimits(placement, limits);
      if (E.isLeft(applied)) return applied;
    }
    await containers.write({ ...record, spec: { ...record.spec, limits: merged } });
    return E.right(view);
  });
};
