// srun --container and sbatch --container on a real single-node Slurm 22.05
// (test/support/slurm.ts), as the unprivileged user nook-sub, with runc as the
// OCI runtime (the reference) and then with nook's (issue 11).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { makeBusyboxBundle, type Bundle } from "../support/bundle.js";
import { describeAs, descendants, runAs, spawnAs, type RunResult } from "../support/nook.js";
import { sleep } from "../support/registry.js";
import { nookRuntime, runcRuntime, slurmUnavailable, startSlurm, type Slurm } from "../support/slurm.js";
import type { TestUser } from "../support/users.js";

const RUNC = "/usr/sbin/runc";

/** The OCI runtimes oci.conf names in turn: runc, the reference, and nook. */
const RUNTIMES = [
  {
    name: "runc",
    unavailable: () => slurmUnavailable() ?? (existsSync(RUNC) ? undefined : `${RUNC} is not installed`),
    runtime: (stateDir: string) => runcRuntime(stateDir, RUNC),
  },
  {
    name: "nook",
    unavailable: () => slurmUnavailable(),
    runtime: (stateDir: string) =>
      nookRuntime(stateDir, process.execPath, join(inject("stage"), "dist", "nook-runtime")),
  },
] as const;

// slurmstepd ends a cancelled step with SIGTERM, then SIGKILL after KillWait;
// `sleep` as pid 1 of its pid namespace ignores SIGTERM, so SIGKILL ends it.
const KILLED_OR_TERMINATED = [128 + 9, 128 + 15];

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

for (const rt of RUNTIMES)
  describeAs("sub", `srun and sbatch --container with ${rt.name} as the OCI runtime`, (user) => {
    const unavailable = rt.unavailable();
    if (unavailable) process.stderr.write(`[skipped] Slurm with ${rt.name}: ${unavailable}\n`);
    describe.skipIf(unavailable !== undefined)("on a single-node Slurm", () => {
      let slurm: Slurm | undefined;
      let bundle: Bundle | undefined;
      let work = "";

      const cluster = (): Slurm => {
        if (!slurm) throw new Error("the Slurm cluster did not start");
        return slurm;
      };
      /** A command of Slurm's as the test user, in a directory of theirs. */
      const as = (argv: readonly string[], input?: string, timeoutMs = 60_000): Promise<RunResult> =>
        runAs(user(), argv, { env: cluster().env, cwd: work, input, timeoutMs });
      const srun = (args: readonly string[], input?: string): Promise<RunResult> =>
        as(["srun", `--container=${bundle!.dir}`, ...args], input);

      beforeAll(async () => {
        const u: TestUser = user();
        slurm = await startSlurm({ runtime: rt.runtime });
        bundle = await makeBusyboxBundle(u);
        const made = await runAs(u, ["mktemp", "-d", "/tmp/nook-slurm-work-XXXXXX"]);
        work = made.stdout.trim();
        if (made.code !== 0) throw new Error(`mktemp as ${u.name}: ${made.stderr}`);
      });

      afterAll(async () => {
        if (work) await runAs(user(), ["rm", "-rf", work]);
        await bundle?.remove();
        await slurm?.stop();
      });

      // Every job, however it ended, leaves no runtime state, no step bundle
      // and no process once slurmstepd has cleaned up.
      afterEach(async () => {
        if (!slurm) return;
        const left = await slurm.settled();
        expect(left, slurm.logs()).toEqual({ processes: [], state: [] });
      });

      /** Starts `srun --container` in the background; resolves once its container runs `argv`. */
      const startJob = async (srunArgs: readonly string[], argv: readonly string[]) => {
        const child = spawnAs(user(), ["srun", ...srunArgs, `--container=${bundle!.dir}`, ...argv], {
          env: cluster().env,
          cwd: work,
        });
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        child.stdout.resume();
        const done = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
        const want = argv.join(" ");
        const deadline = Date.now() + 30_000;
        for (;;) {
          const l = cluster().leftovers();
          // Both the runtime's state and the container's process exist while it runs:
          // what the cleanup check after each test looks for is really there to find.
          if (
            // The container's process itself (srun's argv ends with the command too).
            l.processes.some((p) => p === `${p.split(" ")[0]} ${want}`) &&
            l.state.some((s) => s.startsWith(cluster().stateDir))
          )
            break;
          if (child.exitCode !== null || Date.now() > deadline)
            throw new Error(
              `the container never ran ${want}: ${stderr}\n${JSON.stringify(l)}\n${cluster().logs()}`,
            );
          await sleep(100);
        }
        // As root the child is runuser, which forks srun (env execs it); srun
        // forks a helper of its own, so the first srun from the top is the one.
        const srunPid = [child.pid!, ...descendants(child.pid!)].find((p) => {
          try {
            return readFileSync(`/proc/${p}/comm`, "utf8").trim() === "srun";
          } catch {
            return false;
          }
        });
        if (srunPid === undefined) throw new Error("no srun process below the test's child");
        /** srun's exit status; throws when it still runs after `ms`. */
        const exit = async (ms: number): Promise<number | null> => {
          const r = await Promise.race([done.then((c) => ({ c })), sleep(ms).then(() => undefined)]);
          if (!r) throw new Error(`srun still runs after ${ms / 1000} s: ${stderr}`);
          return r.c;
        };
        return { child, srunPid, exit, stderr: () => stderr };
      };

      it("runs the command as root of a user namespace that maps only the user", async () => {
        const u = user();
        const r = await srun(["sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const lines = r.stdout.split("\n").map((l) => l.trim().split(/\s+/).join(" "));
        expect(lines).toEqual(["uid=0(root) gid=0(root) groups=0(root)", `0 ${u.uid} 1`, `0 ${u.gid} 1`, ""]);
      });

      it("runs the command in the bundle's rootfs, not the host's", async () => {
        const r = await srun(["sh", "-c", "readlink /bin/sh; test -e /usr/bin/env || echo no-host-usr"]);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe("busybox\nno-host-usr\n");
      });

      it("passes the command's exit status through", async () => {
        const failed = await srun(["sh", "-c", "exit 3"]);
        expect(failed.code).toBe(3);
        expect(failed.stderr).toContain("task 0: Exited with exit code 3");
        expect((await srun(["true"])).code).toBe(0);
      });

      it("passes stdin to the container and its stdout and stderr back", async () => {
        const r = await srun(["sh", "-c", "tr a-z A-Z; echo to-stderr >&2"], "hello\nworld\n");
        expect(r.code).toBe(0);
        expect(r.stdout).toBe("HELLO\nWORLD\n");
        expect(r.stderr).toBe("to-stderr\n");
      });

      it("runs a batch script in the container with sbatch --container --wait", async () => {
        const script =
          "#!/bin/sh\necho batch as $(id -u)\ncat /proc/self/uid_map\necho to-stderr >&2\nexit 4\n";
        const write = await as(["sh", "-c", 'cat > "$1"', "sh", join(work, "job.sh")], script);
        expect(write.code).toBe(0);
        const out = join(work, "job.out");
        const err = join(work, "job.err");
        const r = await as([
          "sbatch",
          "--wait",
          `--container=${bundle!.dir}`,
          "-o",
          out,
          "-e",
          err,
          join(work, "job.sh"),
        ]);
        expect(r.stdout).toMatch(/^Submitted batch job \d+\n$/);
        expect(r.code).toBe(4);
        const stdout = readFileSync(out, "utf8")
          .split("\n")
          .map((l) => l.trim().split(/\s+/).join(" "));
        expect(stdout).toEqual(["batch as 0", `0 ${user().uid} 1`, ""]);
        // Nothing of Slurm's either: when RunTimeQuery prints something other than
        // JSON (runc's own "container does not exist", after `run` removed it),
        // slurmstepd logs "_try_parse: JSON parsing error" into this file.
        expect(readFileSync(err, "utf8")).toBe("to-stderr\n");
      });

      it("stops the container and leaves nothing when the job is cancelled", async () => {
        const job = await startJob([], ["sleep", "300"]);
        try {
          const q = await as(["squeue", "-h", "-o", "%i %T"]);
          const [id, state] = q.stdout.trim().split(" ");
          expect(state).toBe("RUNNING");
          expect((await as(["scancel", id!])).code).toBe(0);
          const code = await job.exit(60_000);
          expect(KILLED_OR_TERMINATED, job.stderr()).toContain(code);
          expect(job.stderr()).toContain("CANCELLED");
        } finally {
          job.child.kill("SIGKILL");
          await as(["scancel", "-u", user().name]);
        }
      });

      it("stops the container and leaves nothing when srun is interrupted twice (Ctrl-C)", async () => {
        const job = await startJob([], ["sleep", "300"]);
        try {
          process.kill(job.srunPid, "SIGINT");
          await sleep(200);
          process.kill(job.srunPid, "SIGINT"); // within a second: srun aborts the step
          const code = await job.exit(60_000);
          expect(KILLED_OR_TERMINATED, job.stderr()).toContain(code);
          expect(job.stderr()).toContain("forcing job termination");
        } finally {
          job.child.kill("SIGKILL");
          await as(["scancel", "-u", user().name]);
        }
      });

      it("stops the container and leaves nothing when the job reaches its time limit", async () => {
        const started = Date.now();
        const job = await startJob(["--time=1"], ["sleep", "600"]);
        try {
          const code = await job.exit(180_000);
          expect(KILLED_OR_TERMINATED, job.stderr()).toContain(code);
          expect(job.stderr()).toContain("DUE TO TIME LIMIT");
          expect(Date.now() - started).toBeGreaterThanOrEqual(60_000);
        } finally {
          job.child.kill("SIGKILL");
          await as(["scancel", "-u", user().name]);
        }
      }, 240_000);

      it("times srun --container=BUNDLE true against srun true", async () => {
        const time = async (argv: readonly string[]): Promise<number> => {
          const t0 = process.hrtime.bigint();
          const r = await as(argv);
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          expect(r.code, r.stderr).toBe(0);
          return ms;
        };
        const runs = 7;
        const plain: number[] = [];
        const container: number[] = [];
        for (let i = 0; i < runs; i++) {
          plain.push(await time(["srun", "true"]));
          container.push(await time(["srun", `--container=${bundle!.dir}`, "true"]));
        }
        console.log(
          `[timing] runuser -u ${user().name} -- srun --container=BUNDLE true with ${rt.name}: median ${median(container).toFixed(0)} ms ` +
            `(${container.map((m) => m.toFixed(0)).join(", ")}); srun true without a container: median ` +
            `${median(plain).toFixed(0)} ms (${plain.map((m) => m.toFixed(0)).join(", ")})`,
        );
      });
    });
  });
