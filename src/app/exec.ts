// nook exec: a command in a running container. The helper joins the
// namespaces of the container's pid 1 (user namespace first) instead of
// making new ones, then takes the container's user, groups, limits and
// workdir, or the ones asked for, and execs; nook passes signals on and its
// terminal (-t) as for run.
import { joinCgroup } from "../cgroups/manager.js";
import { Containers } from "../store/containers.js";
import { readFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { identityOps } from "../runtime/container-ops.js";
import { startHelper, type HelperOp } from "../runtime/helper.js";
import { canSignal } from "../runtime/state.js";
import type { Store } from "../store/store.js";
import { findContainer } from "./containers.js";
import { envObject } from "./launch.js";
import { environment, resolveUser } from "./run.js";
import { forwardSignals, waitForwarding } from "./unshare.js";
import { seccompFilter } from "./seccomp-filter.js";

export interface ExecRequest {
  readonly container: string;
  readonly command: readonly string[];
  readonly env: readonly string[];
  readonly workdir?: string;
  readonly user?: string;
  readonly interactive: boolean;
  readonly tty: boolean;
}

const fail = (message: string): E.Either<NookError, never> => E.left({ _tag: "ExecFailed", message });

/** The container's own /etc file, through its pid 1's root. */
const containerFile = (pid: number, name: string): string => {
  try {
    return readFileSync(`/proc/${pid}/root/etc/${name}`, "utf8");
  } catch {
    return "";
  }
};

export const execInContainer = async (
  store: Store,
  req: ExecRequest,
): Promise<E.Either<NookError, number>> => {
  const found = await findContainer(store, req.container);
  if (E.isLeft(found)) return found;
  const view = found.right;
  const ok = canSignal({ status: view.status, name: view.record.name }, "exec");
  if (E.isLeft(ok)) return fail(ok.left);
  if (view.pid === undefined) return fail(`container ${view.record.name} has no pid recorded yet`);
  const spec = view.record.spec;
  let who = { uid: spec.uid, gid: spec.gid, groups: spec.groups };
  if (req.user !== undefined) {
    const u = resolveUser(req.user, containerFile(view.pid, "passwd"), containerFile(view.pid, "group"));
    if (E.isLeft(u)) return fail(u.left);
    who = { uid: u.right.uid, gid: u.right.gid, groups: spec.groups ? u.right.groups : undefined };
  }
  const filter = seccompFilter(view.record);
  if (E.isLeft(filter)) return filter;
  const terminal = req.tty ? await (await import("./terminal.js")).openTerminal() : undefined;
  if (terminal && E.isLeft(terminal)) return terminal;
  const pty = terminal?.right;
  // The container's cgroup, when its run has one: the command joins it (its limits, its stats).
  const placement = new Containers(store).cgroup(view.record.id);
  const ops: HelperOp[] = [
    { op: "die-with-parent" },
    ...(placement ? [{ op: "cgroup-wait" } as const] : []),
    { op: "join", pid: view.pid },
    ...(spec.rlimits ?? []).map((r): HelperOp => ({
      op: "rlimit",
      resource: r.resource,
      soft: r.soft,
      hard: r.hard,
    })),
    ...(pty ? [{ op: "tty", rows: pty.rows, cols: pty.cols, console: false } as const] : []),
    ...identityOps({
      ...who,
      workdir: req.workdir ?? spec.workdir,
      ...(spec.noNewPrivileges ? { noNewPrivileges: true } : {}),
      ...(spec.capabilities ? { capabilities: spec.capabilities } : {}),
      ...(filter.right ? { seccompFilter: filter.right } : {}),
    }),
  ];
  const env = environment(view.record.env, [], req.env, process.env);
  const fwd = forwardSignals();
  const started = await startHelper(ops, req.command, () => async () => E.right(undefined), {
    env: envObject(env),
    stdin: req.interactive ? "inherit" : "ignore",
    ...(pty ? { ptySocket: pty.socket } : {}),
    ...(placement
      ? {
          onCgroup: (pid: number) => async () => {
            const joined = await joinCgroup(placement, pid);
            return E.isLeft(joined)
              ? E.left({ _tag: "CgroupFailed" as const, message: joined.left.message })
              : E.right(undefined);
          },
        }
      : {}),
  })();
  const attached = pty && E.isRight(started) ? await pty.attach(req.interactive) : E.right(undefined);
  if (E.isLeft(attached) && E.isRight(started)) started.right.child.kill("SIGKILL");
  try {
    if (E.isLeft(started)) return started;
    const status = await waitForwarding(started.right, fwd);
    if (E.isLeft(attached)) return attached;
    if (pty) await pty.drained;
    return E.right(status);
  } finally {
    fwd.close();
    pty?.restore();
  }
};
