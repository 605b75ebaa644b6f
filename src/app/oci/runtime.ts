// nook as an OCI runtime (`nook oci ...`, or dist/nook-runtime): runc's
// command line, so that Slurm (oci.conf), Podman (--runtime) and containerd
// can hand nook a bundle. The container is set up by the same helper ops as
// `nook run` (ops.ts); create leaves its process waiting on exec.fifo under
// a monitor that records its pid and exit (state.ts), start releases it.
import {
  appendFileSync,
  closeSync,
  constants as fsc,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { spawnSync } from "node:child_process";
import { constants as osc } from "node:os";
import { resolve, join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { applyIdMap } from "../../runtime/newidmap.js";
import { startHelper, type HelperOp, type RunningHelper } from "../../runtime/helper.js";
import type { IdMapPlan } from "../../runtime/idmap.js";
import { currentIdMapPlan, usernsOps } from "../../runtime/userns.js";
import { connectUnix, mknod, pidfdOpen, pidfdSendSignal, S_IFIFO } from "../../sys/libc.js";
import { identityOps, MASKED_PATHS, READONLY_PATHS } from "../../runtime/container-ops.js";
import { forwardSignals, waitForwarding } from "../unshare.js";
import { CONFIG_FILE, decodeConfig, type HookSet, type OciConfig } from "../../runtime/oci-spec.js";
import { formatFinding, unsupported } from "../../runtime/oci-support.js";
import { ociCapabilities, ociPlan, type OciConfigView } from "./ops.js";
import { checkId, defaultRoot, OciRoot } from "./state.js";

export interface Io {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
}

interface Globals {
  root?: string;
  log?: string;
  logFormat: "text" | "json";
  debug: boolean;
}

class OciError extends Error {}
const oops = (message: string): never => {
  throw new OciError(message);
};

/** runc's global flags come before the subcommand; each takes a value except the booleans. */
const GLOBAL_VALUE = new Set(["--root", "--log", "--log-format", "--criu", "--rootless"]);
const GLOBAL_BOOL = new Set(["--debug", "--systemd-cgroup"]);

/** Flags of a subcommand: `--name value`, `--name=value`, `-x value`; booleans listed. */
const parseFlags = (
  args: readonly string[],
  valued: Record<string, string>,
  bools: Record<string, string>,
): { flags: Record<string, string | true>; rest: string[] } => {
  const flags: Record<string, string | true> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (rest.length > 0 || !a.startsWith("-") || a === "-") {
      rest.push(a);
      continue;
    }
    if (a === "--") {
      rest.push(...args.slice(i + 1));
      break;
    }
    const [name, inline] = a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    if (valued[name] !== undefined) {
      const v = inline ?? args[++i];
      if (v === undefined) oops(`flag needs an argument: ${name}`);
      flags[valued[name]!] = v!;
    } else if (bools[name] !== undefined)
      flags[bools[name]!] = inline === "false" ? (undefined as never) : true;
    else oops(`flag provided but not defined: ${name}`);
  }
  return { flags, rest };
};

/** The bundle's config.json, decoded, with every field nook cannot honour refused by name. */
const readConfig = (bundle: string): OciConfig => {
  const file = join(bundle, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return oops(
      `open ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`,
    );
  }
  const decoded = decodeConfig(text, bundle);
  if (E.isLeft(decoded)) return oops(decoded.left);
  const refused = unsupported(decoded.right.config)[0];
  if (refused) return oops(formatFinding(refused));
  return decoded.right.config;
};

const signalOf = (s: string | undefined): number => {
  if (s === undefined) return osc.signals.SIGTERM;
  if (/^\d+$/.test(s)) return Number(s);
  const name = (
    s.toUpperCase().startsWith("SIG") ? s.toUpperCase() : `SIG${s.toUpperCase()}`
  ) as keyof typeof osc.signals;
  return osc.signals[name] ?? oops(`unknown signal "${s}"`);
};

/** create's and run's flags (runc's). */
const CREATE_VALUED = {
  "--bundle": "bundle",
  "-b": "bundle",
  "--pid-file": "pidFile",
  "--console-socket": "consoleSocket",
  "--preserve-fds": "preserveFds",
};
const CREATE_BOOLS = { "--no-pivot": "noPivot", "--no-new-keyring": "noNewKeyring" };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const nsInode = (pid: number): string | undefined => {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
};

/** The processes whose pid namespace is pid 1's (kill --all, ps). */
const processesOf = (pid1: number): number[] => {
  const target = nsInode(pid1);
  if (target === undefined) return [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e) && nsInode(Number(e)) === target).map(Number);
};

export class OciRuntime {
  private g: Globals = { logFormat: "text", debug: false };
  private roots?: OciRoot;

  constructor(private readonly io: Io) {}

  private get state(): OciRoot {
    if (!this.roots) {
      const root = this.g.root ?? E.getOrElse<string, string>((e) => oops(e))(defaultRoot());
      this.roots = new OciRoot(root);
    }
    return this.roots;
  }

  /** Writes an error where the engine looks: the --log file (json or text) and stderr. */
  private logError(message: string): void {
    const time = new Date().toISOString();
    if (this.g.log) {
      const line =
        this.g.logFormat === "json"
          ? JSON.stringify({ level: "error", msg: message, time })
          : `time="${time}" level=error msg="${message.replace(/"/g, '\\"')}"`;
      try {
        appendFileSync(this.g.log, `${line}\n`);
      } catch {
        // the engine gave a log it cannot have us write: stderr still has it
      }
    }
    this.io.stderr.write(`${message}\n`);
  }

  async main(argv: readonly string[]): Promise<number> {
    let i = 0;
    for (; i < argv.length; i++) {
      const a = argv[i]!;
      const [name, inline] = a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
      if (GLOBAL_VALUE.has(name)) {
        const v = inline ?? argv[++i] ?? "";
        if (name === "--root") this.g.root = resolve(v);
        if (name === "--log") this.g.log = v;
        if (name === "--log-format") this.g.logFormat = v === "json" ? "json" : "text";
      } else if (GLOBAL_BOOL.has(name)) {
        if (name === "--debug") this.g.debug = true;
      } else break;
    }
    const [cmd, ...args] = argv.slice(i);
    try {
      switch (cmd) {
        case "create":
          return await this.create(args);
        case "start":
          return await this.start(args);
        case "run":
          return await this.run(args);
        case "state":
          return this.stateCmd(args);
        case "kill":
          return await this.kill(args);
        case "delete":
          return await this.delete(args);
        case "list":
          return this.list(args);
        case "ps":
          return this.ps(args);
        case "features":
          return this.features();
        case "exec":
          return await this.exec(args);
        case "spec":
          return this.spec(args);
        case "--version":
        case "-v":
        case "version":
          this.io.stdout.write("nook-runtime version 0.1.0\nspec: 1.2.0\n");
          return 0;
        case undefined:
          this.io.stderr.write(
            "usage: nook oci [--root DIR] [--log FILE] [--log-format text|json] COMMAND ...\ncommands: create start run state kill delete list ps exec features spec\n",
          );
          return 1;
        default:
          return oops(`unknown command "${cmd}" for nook oci`);
      }
    } catch (e) {
      if (!(e instanceof OciError)) throw e;
      this.logError(e.message);
      return 1;
    }
  }

  private id(rest: string[]): string {
    const id = rest[0] ?? oops("container id cannot be empty");
    return E.getOrElse<string, string>((m) => oops(m))(checkId(id));
  }

  private existing(rest: string[]): string {
    const id = this.id(rest);
    if (!this.state.exists(id)) oops(`container "${id}" does not exist`);
    return id;
  }

  /** Starts the helper for `id` with the bundle's config; create leaves it at exec.fifo. */
  private async launch(
    id: string,
    bundle: string,
    mode: "create" | "run",
    flags: Record<string, string | true>,
    config: OciConfig,
    /** run: wait on exec.fifo too (its hooks run between create and start). */
    waitForStart = mode === "create",
  ): Promise<{ helper: RunningHelper; dir: string }> {
    if (flags.preserveFds !== undefined && flags.preserveFds !== "0")
      oops("--preserve-fds: passing descriptors to the container is not supported");
    const made = this.state.make({
      id,
      bundle,
      created: new Date().toISOString(),
      owner: process.getuid?.() ?? 0,
      rootfs: config.root ? resolve(bundle, config.root.path) : "",
    });
    const dir = E.getOrElse<string, string>((m) => oops(m))(made);
    try {
      let consoleSocket: number | undefined;
      if (config.process?.terminal) {
        if (typeof flags.consoleSocket !== "string")
          oops("cannot allocate tty if runc will detach without setting console socket");
        const fd = await connectUnix(flags.consoleSocket as string);
        if (E.isLeft(fd))
          oops(`connect to the console socket ${flags.consoleSocket}: errno ${fd.left.errno}`);
        consoleSocket = (fd as E.Right<number>).right;
      }
      const fifo = this.state.fifo(id);
      if (waitForStart) {
        const made = await mknod(fifo, S_IFIFO | 0o622, 0);
        if (E.isLeft(made)) oops(`mkfifo ${fifo}: errno ${made.left.errno}`);
      }
      const seccompFilter = await this.seccompFor(config);
      const plan = E.getOrElse<
        string,
        ReturnType<typeof ociPlan> extends E.Either<string, infer P> ? P : never
      >((m) => oops(m))(
        ociPlan(config, bundle, dir, {
          ...(waitForStart ? { fifo } : {}),
          ...(consoleSocket !== undefined ? { consoleSocket } : {}),
          ...(seccompFilter ? { seccompFilter } : {}),
        }),
      );
      let idMap: IdMapPlan | undefined;
      if (plan.userns === "mappings") idMap = plan.idMap;
      else if (plan.userns === "subid") {
        const current = await currentIdMapPlan();
        if (E.isLeft(current)) oops(current.left.message);
        idMap = (current as E.Right<IdMapPlan>).right;
      }
      // run: a nook killed outright takes the container with it (a hangup, then SIGKILL 2 s later, from
      // the monitor), and the monitor removes the state either way unless --keep.
      const ops: HelperOp[] = [
        ...(mode === "run" ? [{ op: "hup-with-parent" } as const] : []),
        ...(idMap ? usernsOps(idMap, true) : []),
        ...(mode === "run" && !flags.keep ? [{ op: "rm-after", path: dir } as const] : []),
        ...plan.ops,
      ];
      const started = await startHelper(
        ops,
        plan.argv,
        (pid) => (idMap ? applyIdMap(pid, idMap) : async () => E.right(undefined)),
        {
          env: plan.env,
          ...(mode === "create" ? { detached: true, keepStdio: true } : { stdin: "inherit" as const }),
          ...(consoleSocket !== undefined ? { ptySocket: consoleSocket } : {}),
        },
      )();
      if (consoleSocket !== undefined) closeSync(consoleSocket);
      if (E.isLeft(started)) return oops(started.left.message);
      return { helper: started.right, dir };
    } catch (e) {
      this.state.remove(id);
      throw e;
    }
  }

  /** linux.seccomp compiled as nook compiles Docker's profiles (the fields are the same). */
  private async seccompFor(config: OciConfigView & { linux?: { seccomp?: unknown } }) {
    const seccomp = config.linux?.seccomp;
    if (seccomp === undefined) return undefined;
    const [{ decodeProfile }, { compiledFilter }] = await Promise.all([
      import("../../runtime/seccomp/profile.js"),
      import("../seccomp-filter.js"),
    ]);
    const profile = decodeProfile(JSON.stringify(seccomp), "config.json linux.seccomp");
    if (E.isLeft(profile)) return oops(profile.left);
    const filter = compiledFilter(
      profile.right,
      ociCapabilities(config.process?.capabilities?.bounding),
      "linux.seccomp",
    );
    return E.isLeft(filter) ? oops(filter.left.message) : filter.right;
  }

  private async waitPid(id: string): Promise<number> {
    for (let i = 0; i < 500; i++) {
      const pid = this.state.pid(id);
      if (pid !== undefined) return pid;
      await sleep(10);
    }
    return oops(`container ${id}: its monitor recorded no pid`);
  }

  private async create(args: string[]): Promise<number> {
    const { flags, rest } = parseFlags(args, CREATE_VALUED, CREATE_BOOLS);
    const id = this.id(rest);
    const bundle = resolve(typeof flags.bundle === "string" ? flags.bundle : ".");
    const config = readConfig(bundle);
    const { helper } = await this.launch(id, bundle, "create", flags, config);
    await this.waitPid(id);
    await this.createHooks(id, bundle, config.hooks);
    // The pid an engine waits for (conmon, as a subreaper, reaps what we leave): the monitor, our
    // child that outlives us, which leaves with pid 1's status. state's pid is pid 1's.
    if (typeof flags.pidFile === "string") writeFileSync(flags.pidFile, String(helper.child.pid ?? 0));
    return 0;
  }

  private async start(args: string[]): Promise<number> {
    const id = this.existing(args);
    const status = this.state.status(id);
    if (status !== "created")
      oops(
        `cannot start a container that has ${status === "running" ? "already started" : status === "stopped" ? "stopped" : "not been created"}`,
      );
    await this.release(id);
    const bundle = this.state.meta(id)?.bundle;
    if (bundle) this.runHooks(id, bundle, readConfig(bundle).hooks, "poststart", false);
    return 0;
  }

  /** Opens exec.fifo: the container's process, waiting in its last step, goes on to exec. */
  private async release(id: string): Promise<void> {
    // Non-blocking: a container that died meanwhile must not hang us.
    const fd = openSync(this.state.fifo(id), fsc.O_RDONLY | fsc.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(1);
      for (let i = 0; i < 1000; i++) {
        let n = 0;
        try {
          n = readSync(fd, buf, 0, 1, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        }
        if (n === 1) break;
        if (this.state.status(id) === "stopped") oops(`container ${id} stopped before it started`);
        await sleep(5);
      }
    } finally {
      closeSync(fd);
      try {
        unlinkSync(this.state.fifo(id));
      } catch {
        // gone already
      }
    }
  }

  /**
   * The config's hooks of `kind`, each with the state on its stdin (runtime-spec
   * config.md "POSIX-platform Hooks"), in the runtime's namespaces. A failing
   * createRuntime or prestart hook fails the operation; poststart and poststop
   * only warn.
   */
  private runHooks(
    id: string,
    bundle: string,
    all: HookSet | undefined,
    kind: "createRuntime" | "prestart" | "poststart" | "poststop",
    fatal: boolean,
    state?: Record<string, unknown>,
  ): void {
    const hooks = all?.[kind] ?? [];
    if (hooks.length === 0) return;
    const input = JSON.stringify(
      state ?? this.state.state(id) ?? { ociVersion: "1.0.2", id, status: "stopped", bundle },
    );
    for (const h of hooks) {
      const r = spawnSync(h.path, (h.args ?? [h.path]).slice(1), {
        argv0: h.args?.[0] ?? h.path,
        env: Object.fromEntries(
          (h.env ?? []).map((l) => [l.split("=")[0] ?? l, l.slice(l.indexOf("=") + 1)]),
        ),
        input,
        encoding: "utf8",
        ...(h.timeout ? { timeout: h.timeout * 1000 } : {}),
      });
      // A hook that does not read the state ends before its stdin is written: not a failure of its own.
      const error = r.error && (r.error as NodeJS.ErrnoException).code !== "EPIPE" ? r.error : undefined;
      const failed = error
        ? error.message
        : r.status !== 0
          ? `exit status ${r.status ?? r.signal}`
          : undefined;
      if (failed === undefined) continue;
      const message = `${kind} hook ${h.path} failed: ${failed}${r.stderr ? `: ${r.stderr.trim().split("\n")[0]}` : ""}`;
      if (fatal) oops(message);
      this.logError(`warning: ${message}`);
    }
  }

  /** createRuntime and prestart, once the container is created; a failure ends it. */
  private async createHooks(id: string, bundle: string, hooks: HookSet | undefined): Promise<void> {
    try {
      this.runHooks(id, bundle, hooks, "createRuntime", true);
      this.runHooks(id, bundle, hooks, "prestart", true);
    } catch (e) {
      const pid = this.state.pid(id);
      if (pid !== undefined) await this.signal(pid, osc.signals.SIGKILL);
      for (let i = 0; i < 500 && this.state.status(id) !== "stopped"; i++) await sleep(10);
      this.state.remove(id);
      throw e;
    }
  }

  private async run(args: string[]): Promise<number> {
    const { flags, rest } = parseFlags(args, CREATE_VALUED, {
      ...CREATE_BOOLS,
      "--detach": "detach",
      "-d": "detach",
      "--keep": "keep",
    });
    const id = this.id(rest);
    const bundle = resolve(typeof flags.bundle === "string" ? flags.bundle : ".");
    if (flags.detach) {
      await this.create([
        "--bundle",
        bundle,
        ...(typeof flags.pidFile === "string" ? ["--pid-file", flags.pidFile] : []),
        ...(typeof flags.consoleSocket === "string" ? ["--console-socket", flags.consoleSocket] : []),
        id,
      ]);
      return this.start([id]);
    }
    const config = readConfig(bundle);
    const hooks = config.hooks;
    const staged = [hooks?.createRuntime, hooks?.prestart, hooks?.poststart].some(
      (h) => (h?.length ?? 0) > 0,
    );
    const fwd = forwardSignals();
    let status: number;
    try {
      const { helper } = await this.launch(id, bundle, "run", flags, config, staged);
      if (typeof flags.pidFile === "string") writeFileSync(flags.pidFile, String(await this.waitPid(id)));
      if (staged) {
        await this.waitPid(id);
        await this.createHooks(id, bundle, hooks);
        await this.release(id);
        this.runHooks(id, bundle, hooks, "poststart", false);
      }
      status = await waitForwarding(helper, fwd);
    } finally {
      fwd.close();
    }
    const last = this.state.state(id);
    if (!flags.keep) this.state.remove(id);
    this.runHooks(id, bundle, hooks, "poststop", false, last);
    return status;
  }

  private stateCmd(args: string[]): number {
    const id = this.existing(args);
    this.io.stdout.write(`${JSON.stringify(this.state.state(id), null, 2)}\n`);
    return 0;
  }

  private async signal(pid: number, sig: number): Promise<boolean> {
    const fd = await pidfdOpen(pid);
    if (E.isLeft(fd)) return false;
    const sent = await pidfdSendSignal(fd.right, sig);
    closeSync(fd.right);
    return E.isRight(sent);
  }

  private async kill(args: string[]): Promise<number> {
    const { flags, rest } = parseFlags(args, {}, { "--all": "all", "-a": "all" });
    const id = this.existing(rest);
    const sig = signalOf(rest[1]);
    const status = this.state.status(id);
    if (status !== "created" && status !== "running") oops("container not running");
    const pid = this.state.pid(id) ?? oops(`container ${id} has no pid`);
    // --all: every process of its pid namespace (pid 1's death alone would end them, but not every signal kills).
    const targets = flags.all ? processesOf(pid) : [pid];
    for (const p of targets) await this.signal(p, sig);
    return 0;
  }

  private async delete(args: string[]): Promise<number> {
    const { flags, rest } = parseFlags(args, {}, { "--force": "force", "-f": "force" });
    const id = this.id(rest);
    if (!this.state.exists(id)) {
      if (flags.force) return 0;
      oops(`container "${id}" does not exist`);
    }
    const status = this.state.status(id);
    if (status === "created" || status === "running") {
      if (!flags.force) oops(`cannot delete container ${id} that is not stopped: ${status}`);
      const pid = this.state.pid(id);
      if (pid !== undefined) await this.signal(pid, osc.signals.SIGKILL);
      for (let i = 0; i < 1000 && this.state.status(id) !== "stopped"; i++) await sleep(10);
    }
    const bundle = this.state.meta(id)?.bundle;
    const last = this.state.state(id);
    this.state.remove(id);
    if (bundle) this.runHooks(id, bundle, readConfig(bundle).hooks, "poststop", false, last);
    return 0;
  }

  private list(args: string[]): number {
    const { flags } = parseFlags(
      args,
      { "--format": "format", "-f": "format" },
      { "--quiet": "quiet", "-q": "quiet" },
    );
    const rows = this.state.ids().map((id) => this.state.state(id)!);
    if (flags.quiet) {
      for (const r of rows) this.io.stdout.write(`${String(r.id)}\n`);
      return 0;
    }
    if (flags.format === "json") {
      this.io.stdout.write(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    const cells = [
      ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
      ...rows.map((r) => [r.id, r.pid, r.status, r.bundle, r.created, r.owner].map(String)),
    ];
    const widths = cells[0]!.map((_, i) => Math.max(...cells.map((c) => (c[i] ?? "").length)));
    for (const c of cells)
      this.io.stdout.write(
        `${c.map((x, i) => (i < c.length - 1 ? x.padEnd((widths[i] ?? 0) + 4) : x)).join("")}\n`,
      );
    return 0;
  }

  private ps(args: string[]): number {
    const { flags, rest } = parseFlags(args, { "--format": "format", "-f": "format" }, {});
    const id = this.existing(rest);
    const pid = this.state.pid(id);
    const pids = pid !== undefined && this.state.status(id) !== "stopped" ? processesOf(pid) : [];
    if (flags.format === "json") {
      this.io.stdout.write(`${JSON.stringify(pids)}\n`);
      return 0;
    }
    this.io.stdout.write("PID\n" + pids.map((p) => `${p}\n`).join(""));
    return 0;
  }

  /** runc exec: a process joins the container's namespaces (-p process.json, or the command line). */
  private async exec(args: string[]): Promise<number> {
    const { flags, rest } = parseFlags(
      args,
      {
        "--process": "process",
        "-p": "process",
        "--console-socket": "consoleSocket",
        "--pid-file": "pidFile",
        "--cwd": "cwd",
        "--user": "user",
        "-u": "user",
        "--env": "env",
        "-e": "env",
        "--process-label": "label",
        "--apparmor": "apparmor",
        "--cap": "cap",
        "-c": "cap",
        "--preserve-fds": "preserveFds",
      },
      { "--tty": "tty", "-t": "tty", "--detach": "detach", "-d": "detach", "--no-new-privs": "noNewPrivs" },
    );
    const id = this.existing(rest);
    if (this.state.status(id) !== "running") oops("cannot exec in a stopped container");
    const pid1 = this.state.pid(id) ?? oops(`container ${id} has no pid`);
    const container = readConfig(
      this.state.meta(id)?.bundle ?? oops(`container ${id} has no bundle recorded`),
    );
    const filter = await this.seccompFor(container);
    let proc: NonNullable<OciConfigView["process"]>;
    if (typeof flags.process === "string") {
      try {
        proc = JSON.parse(readFileSync(flags.process, "utf8")) as typeof proc;
      } catch (e) {
        return oops(`read ${flags.process}: ${(e as Error).message}`);
      }
    } else {
      const [uid = "0", gid = "0"] = (typeof flags.user === "string" ? flags.user : "0:0").split(":");
      proc = {
        user: { uid: Number(uid), gid: Number(gid) },
        args: rest.slice(1),
        cwd: typeof flags.cwd === "string" ? flags.cwd : "/",
        env: typeof flags.env === "string" ? [flags.env] : [],
        terminal: flags.tty === true,
      };
    }
    if (!proc.args || proc.args.length === 0)
      oops("exec: no command given (a command line, or -p process.json with args)");
    let consoleSocket: number | undefined;
    if (proc.terminal) {
      if (typeof flags.consoleSocket !== "string") oops("exec with a terminal needs --console-socket");
      const fd = await connectUnix(flags.consoleSocket as string);
      if (E.isLeft(fd)) oops(`connect to the console socket ${flags.consoleSocket}: errno ${fd.left.errno}`);
      consoleSocket = (fd as E.Right<number>).right;
    }
    const detach = flags.detach === true;
    const ops: HelperOp[] = [
      ...(detach ? [] : [{ op: "die-with-parent" } as const]),
      { op: "join", pid: pid1 },
      ...(consoleSocket !== undefined ? [{ op: "tty", rows: 24, cols: 80, console: false } as const] : []),
      // The container's own confinement: its bounding set (the exec's, from -p, when given) and filter.
      ...identityOps({
        uid: proc.user.uid,
        gid: proc.user.gid,
        ...(proc.user.additionalGids ? { groups: [...proc.user.additionalGids] } : {}),
        workdir: proc.cwd || "/",
        noNewPrivileges: proc.noNewPrivileges === true || flags.noNewPrivs === true,
        capabilities: ociCapabilities((proc.capabilities ?? container.process?.capabilities)?.bounding),
        ...(filter ? { seccompFilter: filter } : {}),
      }),
    ];
    const env = Object.fromEntries(
      (proc.env ?? []).map((l) => [l.split("=")[0] ?? l, l.slice(l.indexOf("=") + 1)]),
    );
    const fwd = detach ? undefined : forwardSignals();
    try {
      const started = await startHelper(ops, [...(proc.args ?? [])], () => async () => E.right(undefined), {
        env,
        ...(detach ? { detached: true, keepStdio: true } : { stdin: "inherit" as const }),
        ...(consoleSocket !== undefined ? { ptySocket: consoleSocket } : {}),
      })();
      if (consoleSocket !== undefined) closeSync(consoleSocket);
      if (E.isLeft(started)) return oops(started.left.message);
      if (typeof flags.pidFile === "string")
        writeFileSync(flags.pidFile, String(started.right.child.pid ?? 0));
      return detach || !fwd ? 0 : await waitForwarding(started.right, fwd);
    } finally {
      fwd?.close();
    }
  }

  private features(): number {
    this.io.stdout.write(
      `${JSON.stringify(
        {
          ociVersionMin: "1.0.0",
          ociVersionMax: "1.2.0",
          hooks: [],
          mountOptions: ["bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec"],
          linux: {
            namespaces: ["user", "mount", "pid", "ipc", "uts", "network"],
            cgroup: { v1: false, v2: true, systemd: true, systemdUser: true },
            apparmor: { enabled: false },
            selinux: { enabled: false },
          },
        },
        null,
        2,
      )}\n`,
    );
    return 0;
  }

  private spec(args: string[]): number {
    const { flags } = parseFlags(
      args,
      { "--bundle": "bundle", "-b": "bundle" },
      { "--rootless": "rootless" },
    );
    const file = join(resolve(typeof flags.bundle === "string" ? flags.bundle : "."), "config.json");
    if (existsSync(file)) oops("File config.json exists. Remove it first.");
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const spec = {
      ociVersion: "1.0.2",
      process: {
        terminal: true,
        user: { uid: 0, gid: 0 },
        args: ["sh"],
        env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
        cwd: "/",
        // runc spec's sets: a bundle made here behaves as one made by runc.
        capabilities: Object.fromEntries(
          ["bounding", "effective", "permitted"].map((k) => [
            k,
            ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
          ]),
        ),
        rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
        noNewPrivileges: true,
      },
      root: { path: "rootfs", readonly: true },
      hostname: "nook",
      mounts: [
        { destination: "/proc", type: "proc", source: "proc" },
        {
          destination: "/dev",
          type: "tmpfs",
          source: "tmpfs",
          options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
          destination: "/dev/pts",
          type: "devpts",
          source: "devpts",
          options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
        },
        {
          destination: "/dev/shm",
          type: "tmpfs",
          source: "shm",
          options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
          destination: "/dev/mqueue",
          type: "mqueue",
          source: "mqueue",
          options: ["nosuid", "noexec", "nodev"],
        },
        {
          destination: "/sys",
          type: flags.rootless ? "none" : "sysfs",
          source: flags.rootless ? "/sys" : "sysfs",
          options: flags.rootless
            ? ["rbind", "nosuid", "noexec", "nodev", "ro"]
            : ["nosuid", "noexec", "nodev", "ro"],
        },
      ],
      linux: {
        ...(flags.rootless
          ? {
              uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
              gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
            }
          : {}),
        namespaces: [
          { type: "pid" },
          { type: "ipc" },
          { type: "uts" },
          { type: "mount" },
          ...(flags.rootless ? [{ type: "user" }] : [{ type: "network" }]),
        ],
        maskedPaths: [...MASKED_PATHS],
        readonlyPaths: [...READONLY_PATHS],
      },
    };
    writeFileSync(file, `${JSON.stringify(spec, null, "\t")}\n`);
    return 0;
  }
}
