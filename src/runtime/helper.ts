// Spawning nook-helper and speaking its sync protocol (DESIGN.md section 1).
// The helper gets its op list in argv; stdin/stdout/stderr are the user's; fd 3
// is a socketpair (libuv makes one for a "pipe" stdio slot) that carries the
// protocol both ways.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Duplex } from "node:stream";
import * as E from "fp-ts/lib/Either.js";
import type * as TE from "fp-ts/lib/TaskEither.js";
import { decodeJson } from "../lib/decode.js";
import { errnoName } from "../lib/errors.js";
import { CGROUP_READY, HelperMessage, MAPPED, NET_READY, type StepFailed } from "./helper-message.js";

export type HelperOp =
  | { readonly op: "userns" }
  | { readonly op: "setgroups-clear" }
  | { readonly op: "die-with-parent" }
  | { readonly op: "hup-with-parent" }
  | { readonly op: "unshare"; readonly namespaces: readonly ("mount" | "pid" | "ipc" | "uts" | "net")[] }
  | { readonly op: "rm-after"; readonly path: string }
  | { readonly op: "mount-private" }
  | {
      readonly op: "overlay" | "fuse-overlay";
      readonly dir: string;
      readonly lowers: readonly string[];
      readonly upper: string;
      readonly work: string;
      readonly target: string;
      /** fuse-overlayfs only: more -o options (uidmapping=...,gidmapping=...). */
      readonly options?: string;
    }
  /** The copy driver: the layers (top first, relative to dir) copied into target. */
  | {
      readonly op: "copy-rootfs";
      readonly dir: string;
      readonly lowers: readonly string[];
      readonly target: string;
    }
  | { readonly op: "bind" | "ro-bind"; readonly src: string; readonly dst: string }
  | {
      readonly op: "remount-ro" | "proc" | "dev" | "pivot" | "mask" | "readonly";
      readonly path: string;
    }
  /** sysfs, read-write only when asked (--privileged). */
  | { readonly op: "sys"; readonly path: string; readonly rw: boolean }
  | { readonly op: "tmpfs"; readonly path: string; readonly options: string }
  | { readonly op: "hostname"; readonly name: string }
  | {
      readonly op: "monitor";
      readonly dir: string;
      readonly log: string;
      readonly logMax: number;
      readonly tty: boolean;
      /** -i without -t: a pipe to the container's stdin that attached clients feed. */
      readonly stdin?: boolean;
      /** start -a: the monitor reads no output until a client attaches (30 s at most). */
      readonly waitAttach?: boolean;
    }
  | { readonly op: "join"; readonly pid: number }
  | { readonly op: "net-wait"; readonly pidFile: string }
  | { readonly op: "cgroup-wait" }
  | { readonly op: "exec-fifo"; readonly path: string }
  | { readonly op: "exec-wait" }
  | { readonly op: "setns"; readonly type: "net" | "ipc" | "uts" | "cgroup" | "user"; readonly path: string }
  | {
      readonly op: "rlimit";
      readonly resource: number;
      readonly soft: number | "unlimited";
      readonly hard: number | "unlimited";
    }
  | { readonly op: "no-new-privs" | "init" }
  /** The bounding set to keep (hex mask, bit N = capability N); inheritable and ambient emptied. */
  | { readonly op: "caps"; readonly mask: string }
  /** A compiled seccomp filter (src/runtime/seccomp/) and seccomp(2)'s flags. */
  | { readonly op: "seccomp"; readonly file: string; readonly flags: number }
  | { readonly op: "sysctl"; readonly name: string; readonly value: string }
  | { readonly op: "tty"; readonly rows: number; readonly cols: number; readonly console: boolean }
  | { readonly op: "groups"; readonly gids: readonly number[] }
  | { readonly op: "setid"; readonly uid: number; readonly gid: number }
  | { readonly op: "chdir"; readonly path: string };

export const SYNC_FD = 3;
/** Where the helper finds the socket it sends a container's pty master over (-t). */
export const PTY_FD = 4;

/** The helper's argv for an op list and a command (pure; see native/src/main.c for the grammar). */
const monitorFlags = (o: { tty: boolean; stdin?: boolean; waitAttach?: boolean }): string =>
  [o.tty && "tty", o.stdin && "stdin", o.waitAttach && "wait-attach"].filter(Boolean).join(",") || "-";

export const helperArgs = (ops: readonly HelperOp[], argv: readonly string[]): string[] => [
  "--sync-fd",
  String(SYNC_FD),
  ...ops.flatMap((o): string[] => {
    switch (o.op) {
      case "userns":
        return ["--userns"];
      case "setgroups-clear":
        return ["--setgroups-clear"];
      case "hup-with-parent":
        return ["--hup-with-parent"];
      case "die-with-parent":
        return ["--die-with-parent"];
      case "unshare":
        return ["--unshare", o.namespaces.join(",")];
      case "rm-after":
        return ["--rm-after", o.path];
      case "mount-private":
        return ["--mount-private"];
      case "overlay":
        return [`--${o.op}`, o.dir, o.lowers.join(":"), o.upper, o.work, o.target];
      case "fuse-overlay":
        return [`--${o.op}`, o.dir, o.lowers.join(":"), o.upper, o.work, o.target, o.options ?? ""];
      case "copy-rootfs":
        return ["--copy-rootfs", o.dir, o.lowers.join(":"), o.target];
      case "bind":
      case "ro-bind":
        return [`--${o.op}`, o.src, o.dst];
      case "sys":
        return ["--sys", o.path, o.rw ? "rw" : "ro"];
      case "remount-ro":
      case "proc":
      case "dev":
      case "pivot":
      case "mask":
      case "readonly":
        return [`--${o.op}`, o.path];
      case "tmpfs":
        return ["--tmpfs", o.path, o.options];
      case "hostname":
        return ["--hostname", o.name];
      case "monitor":
        return ["--monitor", o.dir, o.log, String(o.logMax), monitorFlags(o)];
      case "join":
        return ["--join", String(o.pid)];
      case "cgroup-wait":
        return ["--cgroup-wait"];
      case "exec-fifo":
        return ["--exec-fifo", o.path];
      case "exec-wait":
        return ["--exec-wait"];
      case "setns":
        return ["--setns", o.type, o.path];
      case "net-wait":
        return ["--net-wait", o.pidFile];
      case "rlimit":
        return ["--rlimit", String(o.resource), String(o.soft), String(o.hard)];
      case "no-new-privs":
      case "init":
        return [`--${o.op}`];
      case "caps":
        return ["--caps", o.mask];
      case "seccomp":
        return ["--seccomp", o.file, String(o.flags)];
      case "sysctl":
        return ["--sysctl", o.name, o.value];
      case "tty":
        return ["--tty", String(PTY_FD), String(o.rows), String(o.cols), o.console ? "console" : "-"];
      case "groups":
        return ["--groups", o.gids.join(",")];
      case "setid":
        return ["--setid", `${o.uid}:${o.gid}`];
      case "chdir":
        return ["--chdir", o.path];
    }
  }),
  "--",
  ...argv,
];

export type HelperError =
  | {
      readonly _tag: "HelperStepFailed";
      readonly message: string;
      readonly step: string;
      readonly errno: number;
      readonly exitCode: number;
      readonly hint?: string;
    }
  | { readonly _tag: "HelperProtocol"; readonly message: string }
  | { readonly _tag: "NetworkFailed"; readonly message: string }
  | { readonly _tag: "CgroupFailed"; readonly message: string; readonly hint?: string }
  | { readonly _tag: "HelperMissing"; readonly message: string; readonly hint: string };

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunningHelper {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
}

/** Where the helper sits: beside the bundle (dist/), unless NOOK_HELPER names another. */
export const helperPath = (): string => process.env.NOOK_HELPER ?? join(bundleDir(), "nook-helper");

/** dist/ in the bundle (this code sits in a chunk there); the repo's dist/ when tests run the sources. */
const bundleDir = (): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  return existsSync(join(here, "nook-helper")) ? here : join(here, "..", "..", "dist");
};

/**
 * Runs the helper until it has carried out its ops and exec'd the command.
 * `onMap` is called with the helper's pid when it asks to be mapped; its error
 * kills the helper and becomes the result. Right(running) means the command
 * is running; its exit comes through `exited`.
 */
export const startHelper =
  <M>(
    ops: readonly HelperOp[],
    argv: readonly string[],
    onMap: (pid: number) => TE.TaskEither<M, void>,
    spawnOpts: {
      readonly env?: NodeJS.ProcessEnv;
      readonly stdin?: "inherit" | "ignore";
      /** The socket the tty op sends the pty's master over, as the helper's fd PTY_FD. */
      readonly ptySocket?: number;
      /** A session of its own, no stdio of nook's: it outlives nook (a detached container's monitor). */
      readonly detached?: boolean;
      /** Detached, but with nook's stdio passed on (an OCI runtime's create: the engine's pipes). */
      readonly keepStdio?: boolean;
      /** The helper gets SIGHUP, not SIGKILL, when nook dies (a container's monitor that cleans up). */
      readonly hangupOnParentDeath?: boolean;
      /** Attaches the network to the helper's namespace (the --net-wait op); its error ends the helper. */
      readonly onNet?: (pid: number) => TE.TaskEither<HelperError, void>;
      /** Places the helper's process (host pid) in the container's cgroup (the --cgroup-wait op). */
      readonly onCgroup?: (pid: number) => TE.TaskEither<HelperError, void>;
    } = {},
  ): TE.TaskEither<HelperError | M, RunningHelper> =>
  () =>
    new Promise((resolve) => {
      const path = helperPath();
      if (!existsSync(path))
        return resolve(
          E.left({
            _tag: "HelperMissing",
            message: `nook-helper not found at ${path}`,
            hint: "build it with npm run build (needs gcc)",
          }),
        );
      const child = spawn(path, helperArgs(ops, argv), {
        stdio: spawnOpts.detached
          ? spawnOpts.keepStdio
            ? [
                "inherit",
                "inherit",
                "inherit",
                "pipe",
                ...(spawnOpts.ptySocket !== undefined ? [spawnOpts.ptySocket] : []),
              ]
            : ["ignore", "ignore", "ignore", "pipe"]
          : spawnOpts.ptySocket !== undefined
            ? ["ignore", "inherit", "inherit", "pipe", spawnOpts.ptySocket]
            : [spawnOpts.stdin ?? "inherit", "inherit", "inherit", "pipe"],
        ...(spawnOpts.env ? { env: spawnOpts.env } : {}),
        ...(spawnOpts.detached ? { detached: true } : {}),
      });
      // Detached: nook may exit while the helper runs on.
      if (spawnOpts.detached) child.unref();
      const exited = new Promise<ExitStatus>((res) =>
        child.once("exit", (code, signal) => res({ code, signal })),
      );
      const sync = child.stdio[SYNC_FD] as Duplex;
      const session = new SyncSession(child, sync, exited, onMap, resolve, {
        ...(spawnOpts.onNet ? { net: spawnOpts.onNet } : {}),
        ...(spawnOpts.onCgroup ? { cgroup: spawnOpts.onCgroup } : {}),
      });
      child.once("error", (e) =>
        session.finish(E.left({ _tag: "HelperProtocol", message: `spawn ${path}: ${e.message}` })),
      );
      sync.setEncoding("utf8");
      sync.on("data", (chunk: string) => session.feed(chunk));
      sync.on("end", () => session.end());
      sync.on("error", () => session.end());
    });

/** One protocol run: line framing, message dispatch, and the single result. */
class SyncSession<M> {
  private buffer = "";
  private done = false;
  /** Set as soon as the helper reports a failed step or asks to be mapped, before any await. */
  private failure: StepFailed | undefined;
  private mapping: Promise<void> | undefined;

  constructor(
    private readonly child: ChildProcess,
    private readonly sync: Duplex,
    private readonly exited: Promise<ExitStatus>,
    private readonly onMap: (pid: number) => TE.TaskEither<M, void>,
    private readonly resolve: (r: E.Either<HelperError | M, RunningHelper>) => void,
    private readonly steps: {
      readonly net?: (pid: number) => TE.TaskEither<HelperError, void>;
      readonly cgroup?: (pid: number) => TE.TaskEither<HelperError, void>;
    },
  ) {}

  finish(result: E.Either<HelperError | M, RunningHelper>): void {
    if (this.done) return;
    this.done = true;
    this.sync.destroy();
    this.resolve(result);
  }

  feed(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.dispatch(line);
    }
  }

  /**
   * End-of-file. With no failure reported, the socket closed on exec: the
   * command runs. After a failure report, the helper has exited: wait for its
   * status, which tells 126 from 127 for a failed exec.
   */
  end(): void {
    if (this.buffer.trim() !== "") this.dispatch(this.buffer);
    this.buffer = "";
    void (async () => {
      if (this.mapping) await this.mapping;
      const failure = this.failure;
      if (failure === undefined) return this.finish(E.right({ child: this.child, exited: this.exited }));
      const status = await this.exited;
      const why = failure.errno !== 0 ? `: ${failure.message} (${errnoName(failure.errno)})` : "";
      this.finish(
        E.left({
          _tag: "HelperStepFailed",
          message: `${failure.step}${why}`,
          step: failure.step,
          errno: failure.errno,
          exitCode: status.code ?? 125,
        }),
      );
    })();
  }

  private dispatch(line: string): void {
    const msg = decodeJson(HelperMessage, "helper message")(line);
    if (E.isLeft(msg)) {
      this.child.kill("SIGKILL");
      return this.finish(
        E.left({
          _tag: "HelperProtocol",
          message: `nook-helper said something nook cannot read: ${msg.left.message}`,
        }),
      );
    }
    if (msg.right.type === "error") {
      this.failure = msg.right;
      return;
    }
    const pid = msg.right.pid;
    // Each step is waited for at end-of-file, after the one before it.
    const before = this.mapping ?? Promise.resolve();
    // Nothing to answer: end-of-file follows, and the command waits for OCI start.
    if (msg.right.type === "created") return;
    if (msg.right.type === "map") {
      this.mapping = before.then(() => this.step(this.onMap(pid), MAPPED));
      return;
    }
    const kind = msg.right.type;
    const handler = this.steps[kind];
    const unplanned = async (): Promise<E.Either<HelperError, void>> =>
      E.left({ _tag: "HelperProtocol", message: `the helper asked for a ${kind} step nook did not plan` });
    this.mapping = before.then(() =>
      this.step(handler?.(pid) ?? unplanned, kind === "net" ? NET_READY : CGROUP_READY),
    );
  }

  private async step(task: TE.TaskEither<HelperError | M, void>, answer: string): Promise<void> {
    const done = await task();
    if (E.isRight(done)) {
      this.sync.write(answer);
      return;
    }
    this.child.kill("SIGKILL");
    await this.exited;
    this.finish(E.left(done.left));
  }
}
