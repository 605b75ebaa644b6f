// A single-node Slurm cluster for tests of OCI runtimes under
// `srun --container` / `sbatch --container` (issue 11): Debian's Slurm 22.05
// and munge, started as root in the foreground in a temporary directory, bound
// to 127.0.0.1 on free ports, torn down after.
//
// Which OCI runtime Slurm calls is a parameter (oci.conf's patterns), so the
// same cluster runs runc today and nook later.
//
// What this host imposes: cgroups are hybrid and PID 1 is not systemd, so no
// cgroup plugin is configured: processes are tracked through /proc
// (proctrack/linuxproc; it follows a job's processes by parentage, which a
// runtime's container processes keep as long as the runtime waits for them)
// and tasks are neither bound nor limited (task/none).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, sleep } from "./registry.js";
import { isRoot } from "./users.js";

const run = promisify(execFile);

/**
 * oci.conf's runtime operations (Slurm 22.05, slurmstepd container.c). Each is
 * a pattern run by `/bin/sh -c` with Slurm's replacements: %b the bundle Slurm
 * generates for the step (its config.json has the job's command, environment
 * and root.path = <the user's bundle>/rootfs), %n node, %u user, %j job, %s
 * step, %t task, %@ the command with each argument single-quoted, %r the
 * rootfs, %e the environment file (with createEnvFile), %% a percent sign.
 *
 * Slurm takes either `run` or `create` and `start`, and always `query`,
 * `kill` and `delete` (read_oci_conf.c refuses anything else, failing every
 * container step).
 *
 * `run` is exec'd in place of the task, as the job's user, in %b, with
 * slurmd's environment (not the job's); its stdio and exit status are the
 * task's. With `create` and `start`, the task runs `create`, polls `query`
 * until "created", runs `start`, then polls `query` until the container is no
 * longer "running", and exits with `start`'s status, not the container's; both
 * run with stdin from /dev/null and stdout and stderr into a pipe Slurm reads
 * to its end, so a container that inherits them hangs the step. When the step
 * ends, slurmstepd, as root, runs `query`, and when the output is JSON with a
 * status, `kill` while it says "running", then `delete`.
 */
export type OciRuntime = {
  readonly query: string;
  readonly kill: string;
  readonly delete: string;
  /**
   * %b/environment with the job's environment, one variable a line. Slurm
   * 22.05 never removes it, so the step's bundle directory stays behind.
   */
  readonly createEnvFile?: boolean;
  /** Where Slurm puts the step's bundle (default a new directory in SlurmdSpoolDir). */
  readonly containerPath?: string;
} & ({ readonly run: string } | { readonly create: string; readonly start: string });

/**
 * runc as Slurm's containers guide has it in oci.conf, in run mode (the one
 * the guide recommends: no polling), its state under `stateDir/<user>`, with
 * one change to `query`, below.
 */
export const runcRuntime = (stateDir: string, bin = "/usr/sbin/runc"): OciRuntime => {
  const runc = `${bin} --rootless=true --root=${stateDir}/%u`;
  const id = "%n.%u.%j.%s.%t";
  return {
    // When a step is cancelled or times out, proctrack/linuxproc SIGKILLs
    // every process of the step, the container's and runc; runc, seeing its
    // container's init die, may be removing its state directory by then, and
    // killed between unlinking state.json and rmdir it leaves <root>/<id>/
    // empty (seen here on a loaded machine, a job in a few). runc itself calls that no container (state:
    // "container does not exist"; list skips it) and `delete --force` removes
    // it, but Slurm 22.05 runs `delete` only after `query` printed a status.
    // So a container runc does not know is reported "stopped" (only Slurm's
    // cleanup asks in run mode), and Slurm then always runs `delete --force`.
    query: `${runc} state ${id} 2>/dev/null || printf '{\\042status\\042:\\042stopped\\042}'`,
    kill: `${runc} kill -a ${id}`,
    delete: `${runc} delete --force ${id}`,
    // exec: the runtime becomes the task, so signals to the task reach it.
    run: `exec ${runc} run --bundle %b ${id}`,
  };
};

/** The same patterns for nook's OCI runtime (`node dist/nook-runtime`), which takes runc's command line. */
export const nookRuntime = (stateDir: string, node: string, runtime: string): OciRuntime => {
  const nook = `${node} ${runtime} --root=${stateDir}/%u`;
  const id = "%n.%u.%j.%s.%t";
  return {
    query: `${nook} state ${id} 2>/dev/null || printf '{\\042status\\042:\\042stopped\\042}'`,
    kill: `${nook} kill -a ${id}`,
    delete: `${nook} delete --force ${id}`,
    run: `exec ${nook} run --bundle %b ${id}`,
  };
};

export interface SlurmOptions {
  /**
   * The runtime's patterns, given a directory (mode 1777, like /tmp) in which
   * the runtime keeps its state: each user's runtime makes its own
   * subdirectory there (`${stateDir}/%u`), and leftovers() reports anything
   * left inside those.
   */
  readonly runtime: (stateDir: string) => OciRuntime;
  /** SlurmctldDebug and SlurmdDebug (default "debug": the runtime's commands and their output are logged). */
  readonly debug?: string;
}

export interface Leftovers {
  /**
   * "PID ARGV" of processes whose environment or command line names the
   * cluster's directory (SLURM_CONF, the runtime's state), other than its
   * daemons: slurmstepd, the runtime, the container's processes, and commands
   * like srun while they run.
   */
  readonly processes: readonly string[];
  /**
   * What jobs left in the runtime's state directories and in SlurmdSpoolDir:
   * each path, a directory with a trailing slash followed by what it holds.
   */
  readonly state: readonly string[];
}

export interface Slurm {
  /** The temporary directory holding everything the cluster writes. */
  readonly dir: string;
  readonly conf: string;
  readonly node: string;
  readonly partition: string;
  /** What the runtime() option was given. */
  readonly stateDir: string;
  /** Environment for commands (srun, sbatch, sinfo...) as any user: SLURM_CONF. */
  readonly env: Readonly<Record<string, string>>;
  /** What jobs left behind now. */
  readonly leftovers: () => Leftovers;
  /**
   * Waits until nothing is left (slurmstepd cleans up after srun returns),
   * up to timeoutMs; returns what is still there then.
   */
  readonly settled: (timeoutMs?: number) => Promise<Leftovers>;
  /** The end of each daemon's log, for failure messages. */
  readonly logs: (lines?: number) => string;
  /**
   * Stops the daemons, kills any process a job left, removes the directory,
   * and throws when anything had to be forced or was left.
   */
  readonly stop: () => Promise<void>;
}

/** Why this host cannot run the cluster, or undefined when it can. */
export const slurmUnavailable = (): string | undefined => {
  if (!isRoot()) return "slurmd runs jobs as their users, so it needs root; run the tests as root";
  const tools = [
    "/usr/sbin/slurmctld",
    "/usr/sbin/slurmd",
    "/usr/sbin/munged",
    "/usr/sbin/mungekey",
    "/usr/bin/srun",
  ];
  const missing = tools.filter((t) => !existsSync(t));
  return missing.length
    ? `${missing.join(", ")} not installed (apt-get install slurm-wlm slurm-client munge, or scripts/provision.sh)`
    : undefined;
};

// Slurm's config parser (parse_config.c) ends a line at "#" unless a
// backslash precedes it, then drops every backslash before the character it
// escapes; a quoted value cannot hold a double quote at all. slurmstepd
// fatal()s on an unknown %-replacement in the middle of a job. So patterns are
// escaped here, and what cannot be said is refused before the cluster starts.
const ociPattern = (key: string, pattern: string): string => {
  if (/["\n]/.test(pattern))
    throw new Error(`oci.conf ${key}: a pattern cannot hold a double quote or newline`);
  const bad = pattern.replace(/%[%@bejnrstu]/g, "").match(/%./);
  if (bad) throw new Error(`oci.conf ${key}: Slurm 22.05 has no replacement ${bad[0]}`);
  return `${key}="${pattern.replace(/[\\#]/g, "\\$&")}"\n`;
};

const ociConf = (rt: OciRuntime): string => {
  const has = (k: string): boolean => typeof (rt as Record<string, unknown>)[k] === "string";
  if (has("run") === (has("create") || has("start")) || has("create") !== has("start"))
    throw new Error("oci.conf: Slurm 22.05 takes either run, or create and start");
  const keys: [string, string][] = [
    ["query", "RunTimeQuery"],
    ["create", "RunTimeCreate"],
    ["start", "RunTimeStart"],
    ["kill", "RunTimeKill"],
    ["delete", "RunTimeDelete"],
    ["run", "RunTimeRun"],
    ["containerPath", "ContainerPath"],
  ];
  let out = "";
  for (const [field, key] of keys) {
    const v = (rt as Record<string, unknown>)[field];
    if (typeof v === "string") out += ociPattern(key, v);
  }
  return out + `CreateEnvFile=${rt.createEnvFile ? "true" : "false"}\n`;
};

interface Layout {
  readonly dir: string;
  readonly cluster: string;
  readonly node: string;
  readonly partition: string;
  readonly ctldPort: number;
  readonly slurmdPort: number;
  readonly mungeSocket: string;
  readonly debug: string;
}

const slurmConf = (l: Layout): string => `# Written by test/support/slurm.ts
ClusterName=${l.cluster}
SlurmctldHost=${l.node}(127.0.0.1)
SlurmctldPort=${l.ctldPort}
SlurmdPort=${l.slurmdPort}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${l.mungeSocket}
StateSaveLocation=${l.dir}/state
SlurmdSpoolDir=${l.dir}/spool
SlurmctldPidFile=${l.dir}/log/slurmctld.pid
SlurmdPidFile=${l.dir}/log/slurmd.pid
SlurmctldLogFile=${l.dir}/log/slurmctld.log
SlurmdLogFile=${l.dir}/log/slurmd.log
SlurmctldDebug=${l.debug}
SlurmdDebug=${l.debug}
# No cgroups here (hybrid hierarchy, PID 1 is not systemd): track processes
# through /proc and leave tasks unbound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Schedule a batch job as it arrives: the default lets it wait up to 3 s,
# and sbatch --wait's next poll after its first (2 s) comes 8 s later.
SchedulerParameters=batch_sched_delay=0
# Seconds between SIGTERM and SIGKILL when a job is cancelled or times out.
KillWait=5
ReturnToService=2
NodeName=${l.node} NodeAddr=127.0.0.1 CPUs=${availableParallelism()} State=UNKNOWN
PartitionName=${l.partition} Nodes=${l.node} Default=YES MaxTime=INFINITE State=UP
`;

/** The slurmd's own files in its spool directory; anything else there belongs to a job. */
const SLURMD_FILES = /^(cred_state(\.old)?|hwloc_topo_whole\.xml)$/;

/** `path` and, for a directory, everything below it ("dir/" first): what was left shows what it is. */
const tree = (path: string): string[] => {
  try {
    const entries = readdirSync(path, { withFileTypes: true });
    return [`${path}/`, ...entries.flatMap((e) => tree(join(path, e.name)))];
  } catch {
    return [path]; // not a directory, or gone meanwhile
  }
};

const exited = (c: ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null;

/** SIGTERM, then SIGKILL after `graceMs`; true when SIGKILL was needed. */
const stopDaemon = async (c: ChildProcess, graceMs: number): Promise<boolean> => {
  if (exited(c)) return false;
  const gone = new Promise<void>((r) => c.once("exit", () => r()));
  c.kill("SIGTERM");
  const forced = await Promise.race([gone.then(() => false), sleep(graceMs).then(() => true)]);
  if (forced) {
    c.kill("SIGKILL");
    await gone;
  }
  return forced;
};

const tail = (file: string, lines: number): string => {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
};

/**
 * Processes whose environment or command line mentions `dir`, as "PID ARGV".
 * Every daemon gets SLURM_CONF=<dir>/etc/slurm.conf, and so every slurmstepd,
 * task and runtime process they start, and the container's processes (the job's
 * environment holds it too); a runtime's helpers with an environment of their
 * own still name their state under <dir> (runc init: _LIBCONTAINER_STATEDIR).
 */
const processesMentioning = (dir: string): { pid: number; ppid: number; argv: string }[] => {
  const out: { pid: number; ppid: number; argv: string }[] = [];
  const needle = `${dir}/`;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, "utf8");
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (!env.includes(needle) && !cmdline.includes(needle)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z") continue; // exited, waiting for its parent to reap it
      out.push({ pid: Number(name), ppid: Number(fields[1]), argv: cmdline.split("\0").join(" ").trim() });
    } catch {
      // gone meanwhile
    }
  }
  return out;
};

export const startSlurm = async (opts: SlurmOptions): Promise<Slurm> => {
  const why = slurmUnavailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync("/tmp/nook-slurm-");
  // Users read slurm.conf and reach the munge socket; slurmstepd makes each
  // step's bundle, owned by its user, in the spool directory.
  mkdirSync(join(dir, "etc"));
  mkdirSync(join(dir, "munge"));
  mkdirSync(join(dir, "spool"));
  mkdirSync(join(dir, "munge-private"), { mode: 0o700 });
  mkdirSync(join(dir, "state"), { mode: 0o700 });
  mkdirSync(join(dir, "log"), { mode: 0o700 });
  const stateDir = join(dir, "runtime");
  mkdirSync(stateDir);
  for (const d of [dir, join(dir, "etc"), join(dir, "munge"), join(dir, "spool")]) chmodSync(d, 0o755);
  chmodSync(stateDir, 0o1777);

  const layout: Layout = {
    dir,
    cluster: `nook${dir
      .slice(-6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "x")}`,
    node: hostname().split(".")[0] ?? "localhost",
    partition: "debug",
    ctldPort: await freePort(),
    slurmdPort: await freePort(),
    mungeSocket: join(dir, "munge", "munge.socket"),
    debug: opts.debug ?? "debug",
  };
  const conf = join(dir, "etc", "slurm.conf");
  writeFileSync(conf, slurmConf(layout), { mode: 0o644 });
  writeFileSync(join(dir, "etc", "oci.conf"), ociConf(opts.runtime(stateDir)), { mode: 0o644 });

  // SLURM_CONF, inherited by every slurmstepd and runtime process, is one way
  // leftovers() and stop() tell this cluster's processes from everyone else's
  // (processesMentioning). The rest is what an init system gives a daemon: no
  // HOME, no XDG_RUNTIME_DIR.
  const daemonEnv = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8", SLURM_CONF: conf };
  const daemons: { name: string; child: ChildProcess; log: string }[] = [];
  const daemon = async (name: string, argv: string[]): Promise<ChildProcess> => {
    const log = join(dir, "log", `${name}.out`);
    const fd = openSync(log, "a");
    const child = spawn(argv[0]!, argv.slice(1), { env: daemonEnv, stdio: ["ignore", fd, fd] });
    daemons.push({ name, child, log });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (e) => reject(new Error(`cannot start ${name}: ${e.message}`)));
    });
    return child;
  };

  const logs = (lines = 30): string =>
    [
      ...daemons.map((d) => `--- ${d.name} (stdout and stderr)\n${tail(d.log, lines)}`),
      `--- slurmctld.log\n${tail(join(dir, "log", "slurmctld.log"), lines)}`,
      `--- slurmd.log\n${tail(join(dir, "log", "slurmd.log"), lines)}`,
    ].join("\n");

  const leftovers = (): Leftovers => {
    const mine = new Set(daemons.filter((d) => !exited(d.child)).map((d) => d.child.pid));
    const ctld = daemons.find((d) => d.name === "slurmctld")?.child.pid;
    const processes = processesMentioning(dir)
      // slurmscriptd is slurmctld's own helper, forked at start.
      .filter((p) => !mine.has(p.pid) && p.ppid !== ctld)
      .map((p) => `${p.pid} ${p.argv}`);
    const state: string[] = [];
    for (const user of readdirSync(stateDir, { withFileTypes: true })) {
      const p = join(stateDir, user.name);
      if (!user.isDirectory()) state.push(p);
      else for (const e of readdirSync(p)) state.push(...tree(join(p, e)));
    }
    for (const e of readdirSync(join(dir, "spool")))
      if (!SLURMD_FILES.test(e)) state.push(...tree(join(dir, "spool", e)));
    return { processes, state };
  };

  const settled = async (timeoutMs = 10_000): Promise<Leftovers> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = leftovers();
      if ((l.processes.length === 0 && l.state.length === 0) || Date.now() > deadline) return l;
      await sleep(100);
    }
  };

  const stop = async (): Promise<void> => {
    const problems: string[] = [];
    // slurmd first, so it starts no more steps; munged last, as the others
    // authenticate through it while they shut down.
    for (const name of ["slurmd", "slurmctld", "munged"]) {
      const d = daemons.find((x) => x.name === name);
      if (d && (await stopDaemon(d.child, 10_000)))
        problems.push(`${name} ignored SIGTERM for 10 s and was killed`);
    }
    const left = leftovers();
    for (const p of left.processes) {
      problems.push(`left running: ${p}`);
      try {
        process.kill(Number(p.split(" ")[0]), "SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
    for (const s of left.state) problems.push(`left behind: ${s}`);
    const log = problems.length ? logs() : "";
    rmSync(dir, { recursive: true, force: true });
    if (problems.length) throw new Error(`Slurm cluster in ${dir}:\n${problems.join("\n")}\n${log}`);
  };

  try {
    const key = join(dir, "munge-private", "munge.key");
    await run("mungekey", ["--create", `--keyfile=${key}`]);
    const munged = await daemon("munged", [
      "munged",
      "--foreground",
      `--socket=${layout.mungeSocket}`,
      `--key-file=${key}`,
      `--pid-file=${join(dir, "munge-private", "munged.pid")}`,
      `--log-file=${join(dir, "munge-private", "munged.log")}`,
      `--seed-file=${join(dir, "munge-private", "munged.seed")}`,
    ]);
    await waitFor("munged's socket", 10_000, [munged], () => existsSync(layout.mungeSocket));
    const ctld = await daemon("slurmctld", ["slurmctld", "-D", "-f", conf]);
    const slurmd = await daemon("slurmd", ["slurmd", "-D", "-f", conf, "-N", layout.node]);
    const state = async (): Promise<string> =>
      (
        await run("sinfo", ["-h", "-N", "-n", layout.node, "-o", "%T"], { env: { ...daemonEnv } }).catch(
          () => ({ stdout: "" }),
        )
      ).stdout.trim();
    await waitFor(
      `node ${layout.node} idle in sinfo`,
      60_000,
      [munged, ctld, slurmd],
      async () => (await state()) === "idle",
    );
  } catch (e) {
    const msg = `${e instanceof Error ? e.message : String(e)}\n${logs()}`;
    await stop().catch(() => {});
    throw new Error(msg);
  }

  return {
    dir,
    conf,
    node: layout.node,
    partition: layout.partition,
    stateDir,
    env: { SLURM_CONF: conf },
    leftovers,
    settled,
    logs,
    stop,
  };
};

const waitFor = async (
  what: string,
  timeoutMs: number,
  alive: readonly ChildProcess[],
  ready: () => boolean | Promise<boolean>,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = alive.find(exited);
    if (dead)
      throw new Error(
        `${dead.spawnfile} exited (${dead.exitCode ?? dead.signalCode}) while waiting for ${what}`,
      );
    if (await ready()) return;
    await sleep(100);
  }
  throw new Error(`no ${what} within ${timeoutMs / 1000} s`);
};
