// Starting a created container: in the foreground (nook run), with nook
// copying its terminal and passing signals on; or detached (run -d, start),
// with the helper's waiting parent as its monitor, which outlives nook, logs
// the output and records the exit (native/src/monitor.c).
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { trace } from "../lib/trace.js";
import { containerOps } from "../runtime/container-ops.js";
import type { RunningHelper } from "../runtime/helper.js";
import { keepIdPlan, type IdMapPlan } from "../runtime/idmap.js";
import { currentIdMapPlan, unshareExec, type UsernsError } from "../runtime/userns.js";
import { Containers } from "../store/containers.js";
import type { ContainerRecord } from "../store/records.js";
import type { Store } from "../store/store.js";
import { bootId, processStat } from "../sys/proc.js";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { attachNetwork } from "../network/attach.js";
import { configuredCgroupManager, runtimeDir } from "./locations.js";
import { checkLimits, resolveManager, place, readHost, release } from "../cgroups/manager.js";
import type { HelperError } from "../runtime/helper.js";
import { forwardSignals, waitForwarding } from "./unshare.js";
import { seccompFilter } from "./seccomp-filter.js";
import { userDevices } from "../sys/devices.js";

/** Where a detached container's log moves to ctr.log.1 (Podman's log_size_max is off by default; Docker's json-file keeps one file unbounded). */
const LOG_MAX = 16 * 1024 * 1024;

const planFor = async (record: ContainerRecord): Promise<E.Either<UsernsError, IdMapPlan>> => {
  const plain = await currentIdMapPlan();
  if (E.isLeft(plain) || !record.keepId) return plain;
  return E.right(keepIdPlan(plain.right, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }));
};

/** How the helper's --net-wait step is answered for this container. */
const networkHook = (
  record: ContainerRecord,
): E.Either<NookError, { onNet?: ReturnType<typeof attachNetwork> }> => {
  const s = record.spec;
  if (s.network !== "pasta" && s.network !== "slirp4netns") return E.right({});
  const rt = runtimeDir();
  if (E.isLeft(rt)) return rt;
  return E.right({
    onNet: attachNetwork({
      kind: s.network,
      options: s.networkOptions ?? [],
      ports: s.ports ?? [],
      hostLoopback: s.hostLoopback ?? false,
      pidFile: join(s.dir, "net.pid"),
      logFile: join(s.dir, "net.log"),
      apiSocket: join(rt.right, `slirp-${record.id.slice(0, 12)}.sock`),
    }),
  });
};

/**
 * The container's cgroup for this run: the manager this host offers (or the
 * one asked for), every limit checked before anything starts, and the hook
 * that places pid 1 when the helper asks (its --cgroup-wait step).
 */
const cgroupHook = async (
  store: Store,
  record: ContainerRecord,
): Promise<
  E.Either<
    NookError,
    { cgroup?: boolean; onCgroup?: (pid: number) => () => Promise<E.Either<HelperError, void>> }
  >
> => {
  const s = record.spec;
  const host = readHost();
  const configured = configuredCgroupManager();
  const choice = resolveManager(host, {
    ...(s.cgroupManager ? { flag: s.cgroupManager } : {}),
    ...(configured ? { configured } : {}),
    ...(s.cgroupsDisabled ? { disabled: true } : {}),
  });
  if (E.isLeft(choice)) return choice;
  const limits = s.limits ?? {};
  const ok = checkLimits(host, choice.right, limits);
  if (E.isLeft(ok)) return ok;
  const containers = new Containers(store);
  // The last run's cgroup (cgroupfs: ours to remove; a systemd scope goes by itself).
  const last = containers.cgroup(record.id);
  if (last) await release(last);
  rmSync(join(s.dir, "cgroup.json"), { force: true });
  if (choice.right.kind === "none") return E.right({});
  return E.right({
    cgroup: true,
    onCgroup: (pid) => async () => {
      const placed = await place(host, choice.right, record, limits, pid);
      if (E.isLeft(placed))
        return E.left({
          _tag: "CgroupFailed",
          message: placed.left.message,
          ...(placed.left.hint ? { hint: placed.left.hint } : {}),
        });
      if (placed.right) await containers.writeCgroup(record.id, placed.right);
      return E.right(undefined);
    },
  });
};

export const envObject = (env: readonly string[]): NodeJS.ProcessEnv =>
  Object.fromEntries(env.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

/** Records which monitor watches this run (the helper: the waiting parent of pid 1 is its first process). */
const recordStart = async (
  store: Store,
  record: ContainerRecord,
  helper: RunningHelper,
  detached: boolean,
): Promise<void> => {
  const pid = helper.child.pid ?? 0;
  try {
    await new Containers(store).writeStarted(record.id, {
      monitorPid: pid,
      monitorStart: processStat(pid)?.start ?? 0,
      bootId: bootId(),
      startedAt: new Date().toISOString(),
      detached,
    });
  } catch {
    // a --rm container that has already ended and gone: nothing to record
  }
};

/** Runs the container in the foreground; resolves to its exit status. */
export const launchAttached = async (
  store: Store,
  record: ContainerRecord,
  opts: { readonly interactive: boolean },
): Promise<E.Either<NookError, number>> => {
  const plan = await planFor(record);
  if (E.isLeft(plan)) return plan;
  const net = networkHook(record);
  if (E.isLeft(net)) return net;
  const cg = await cgroupHook(store, record);
  if (E.isLeft(cg)) return cg;
  trace("run: seccomp filter");
  const filter = seccompFilter(record);
  if (E.isLeft(filter)) return filter;
  trace("run: seccomp filter ready");
  new Containers(store).clearRun(record.id);
  const terminal = record.tty ? await (await import("./terminal.js")).openTerminal() : undefined;
  if (terminal && E.isLeft(terminal)) return terminal;
  const pty = terminal?.right;
  const ops = containerOps({
    ...record.spec,
    ...(filter.right ? { seccompFilter: filter.right } : {}),
    ...(record.spec.privileged ? { devices: userDevices() } : {}),
    ...(pty ? { tty: { rows: pty.rows, cols: pty.cols } } : {}),
    ...(cg.right.cgroup ? { cgroup: true } : {}),
    monitor: { log: "", logMax: 0, tty: false },
  });
  trace("run: start helper");
  const fwd = forwardSignals();
  const started = await unshareExec(plan.right, record.argv, ops, {
    env: envObject(record.env),
    stdin: opts.interactive ? "inherit" : "ignore",
    hangupOnParentDeath: true,
    ...(pty ? { ptySocket: pty.socket } : {}),
    ...net.right,
    ...(cg.right.onCgroup ? { onCgroup: cg.right.onCgroup } : {}),
  })();
  trace("run: container running");
  if (E.isRight(started)) await recordStart(store, record, started.right, false);
  const attached = pty && E.isRight(started) ? await pty.attach(opts.interactive) : E.right(undefined);
  // No terminal: the container must not run on unseen.
  if (E.isLeft(attached) && E.isRight(started)) started.right.child.kill("SIGKILL");
  let status: E.Either<NookError, number>;
  try {
    status = E.isLeft(started) ? started : E.right(await waitForwarding(started.right, fwd));
    if (E.isLeft(attached)) status = attached;
    else if (pty && E.isRight(started)) await pty.drained;
  } finally {
    fwd.close();
    pty?.restore();
  }
  trace("run: container exited");
  return status;
};

/** Starts the container under a monitor of its own and returns once its command runs. */
export const launchDetached = async (
  store: Store,
  record: ContainerRecord,
  opts: { readonly waitAttach?: boolean } = {},
): Promise<E.Either<NookError, void>> => {
  const plan = await planFor(record);
  if (E.isLeft(plan)) return plan;
  const net = networkHook(record);
  if (E.isLeft(net)) return net;
  const cg = await cgroupHook(store, record);
  if (E.isLeft(cg)) return cg;
  const filter = seccompFilter(record);
  if (E.isLeft(filter)) return filter;
  const containers = new Containers(store);
  containers.clearRun(record.id);
  const ops = containerOps({
    ...record.spec,
    ...(filter.right ? { seccompFilter: filter.right } : {}),
    ...(record.spec.privileged ? { devices: userDevices() } : {}),
    // Detached, a terminal has no window to follow: Docker's 24x80... is 0x0; keep a usable size.
    ...(record.tty ? { tty: { rows: 24, cols: 80 } } : {}),
    ...(cg.right.cgroup ? { cgroup: true } : {}),
    monitor: {
      log: containers.logFile(record.id),
      logMax: LOG_MAX,
      tty: record.tty,
      // -i: the container's stdin stays open for nook attach (a terminal's is the pty).
      stdin: record.interactive && !record.tty,
      ...(opts.waitAttach ? { waitAttach: true } : {}),
    },
  });
  const started = await unshareExec(plan.right, record.argv, ops, {
    env: envObject(record.env),
    detached: true,
    ...net.right,
    ...(cg.right.onCgroup ? { onCgroup: cg.right.onCgroup } : {}),
  })();
  if (E.isLeft(started)) return started;
  await recordStart(store, record, started.right, true);
  return E.right(undefined);
};
