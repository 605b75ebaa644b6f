// nook as an OCI runtime (nook oci, dist/nook-runtime), as the unprivileged
// test users: bundles whose config.json nook oci spec --rootless wrote, with
// a rootfs of the host's static busybox; runc's verbs and their states; root
// reading and deleting a user's container; and Podman running its containers
// through nook (podman --runtime).
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, descendants, runAs, type RunResult } from "../support/nook.js";
import type { TestUser } from "../support/users.js";

const runtimeBin = (): string => join(inject("stage"), "dist", "nook-runtime");

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeAs("sub", "nook oci, runc's command line", (user) => {
  let dir: string;
  let bundle: string;
  let root: string;
  /** create and run -d: the container keeps the runtime's stdio (runc's way), so it gets files, not our pipes. */
  const ociDetached = (args: string[]): Promise<RunResult> =>
    runAs(user(), [
      "sh",
      "-c",
      `"$0" "$@" >${dir}/out 2>${dir}/err </dev/null; s=$?; cat ${dir}/err >&2; exit $s`,
      runtimeBin(),
      "--root",
      root,
      ...args,
    ]);
  const oci = (args: string[], input?: string): Promise<RunResult> =>
    input === undefined
      ? runAs(user(), [runtimeBin(), "--root", root, ...args])
      : runAs(user(), ["sh", "-c", `printf '${input}' | "$0" "$@"`, runtimeBin(), "--root", root, ...args]);
  /** Replaces the bundle's process args (and terminal: false). */
  const setArgs = (args: string[]): void => {
    const file = join(bundle, "config.json");
    const config = JSON.parse(readFileSync(file, "utf8")) as {
      process: { args: string[]; terminal: boolean };
    };
    config.process.args = args;
    config.process.terminal = false;
    writeFileSync(file, JSON.stringify(config));
  };

  beforeAll(async () => {
    const u: TestUser = user();
    dir = mkdtempSync("/tmp/nook-oci-");
    chmodSync(dir, 0o755);
    bundle = join(dir, "bundle");
    root = join(dir, "state");
    // A rootfs of the host's busybox, the user's own (as a bundle made by the user would be).
    const script = `mkdir -p ${bundle}/rootfs/bin ${bundle}/rootfs/proc ${bundle}/rootfs/dev ${bundle}/rootfs/sys ${bundle}/rootfs/tmp &&
      cp /bin/busybox ${bundle}/rootfs/bin/ && for c in sh id cat echo sleep hostname ls; do ln -s busybox ${bundle}/rootfs/bin/$c; done`;
    execFileSync("sh", ["-c", script]);
    execFileSync("chown", ["-R", `${u.uid}:${u.gid}`, dir]);
    const spec = await runAs(u, [runtimeBin(), "spec", "--rootless", "-b", bundle]);
    expect(spec).toMatchObject({ code: 0, stderr: "" });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("spec --rootless writes a config.json that run runs: container root is the user, status and stdio pass through", async () => {
    setArgs(["id"]);
    const id = await oci(["run", "-b", bundle, "run1"]);
    expect(id).toMatchObject({
      code: 0,
      stdout: "uid=0 gid=0 groups=0\n",
    });
    setArgs(["sh", "-c", "cat; exit 3"]);
    const piped = await oci(["run", "-b", bundle, "run2"], "through\\n");
    expect(piped).toMatchObject({ code: 3, stdout: "through\n" });
    // run leaves no state behind.
    expect((await oci(["list", "-q"])).stdout).toBe("");
    const again = await oci(["spec", "--rootless", "-b", bundle]);
    expect(again).toMatchObject({ code: 1, stderr: "File config.json exists. Remove it first.\n" });
  });

  it("create, start, state, ps, kill and delete move through created, running and stopped", async () => {
    setArgs(["sh", "-c", "echo started; exec sleep 60"]);
    const pidFile = join(dir, "pid");
    const created = await ociDetached(["create", "-b", bundle, "--pid-file", pidFile, "life"]);
    expect(created).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const state = async () =>
      JSON.parse((await oci(["state", "life"])).stdout) as { status: string; pid: number; bundle: string };
    expect(await state()).toMatchObject({ status: "created", bundle });
    expect(Number(readFileSync(pidFile, "utf8"))).toBeGreaterThan(0);
    const refused = await oci(["delete", "life"]);
    expect(refused).toMatchObject({
      code: 1,
      stderr: "cannot delete container life that is not stopped: created\n",
    });
    expect((await oci(["start", "life"])).code).toBe(0);
    const running = await state();
    expect(running.status).toBe("running");
    expect(readFileSync(`/proc/${running.pid}/comm`, "utf8")).toBe("sleep\n");
    expect(JSON.parse((await oci(["ps", "--format", "json", "life"])).stdout)).toContain(running.pid);
    expect((await oci(["list"])).stdout).toMatch(/^life\s+\d+\s+running\s+/m);
    // root reads and removes a user's container (as Slurm does).
    const asRoot = JSON.parse(
      execFileSync(process.execPath, [runtimeBin(), "--root", root, "state", "life"], { encoding: "utf8" }),
    ) as { status: string };
    expect(asRoot.status).toBe("running");
    expect((await oci(["kill", "life", "KILL"])).code).toBe(0);
    for (let i = 0; i < 50 && (await state()).status !== "stopped"; i++) await sleep(100);
    expect((await state()).status).toBe("stopped");
    execFileSync(process.execPath, [runtimeBin(), "--root", root, "delete", "--force", "life"]);
    expect(await oci(["state", "life"])).toMatchObject({
      code: 1,
      stderr: 'container "life" does not exist\n',
    });
    expect(() => readFileSync(`/proc/${running.pid}/comm`)).toThrow();
  });

  it("kill --all signals every process of the container; delete --force ends a running one", async () => {
    setArgs(["sh", "-c", "sleep 60 & sleep 60 & wait"]);
    expect((await ociDetached(["create", "-b", bundle, "all"])).code).toBe(0);
    expect((await oci(["start", "all"])).code).toBe(0);
    await sleep(300);
    const pids = JSON.parse((await oci(["ps", "--format", "json", "all"])).stdout) as number[];
    expect(pids.length).toBe(3);
    expect((await oci(["kill", "--all", "all", "TERM"])).code).toBe(0);
    await sleep(500);
    for (const p of pids) expect(() => readFileSync(`/proc/${p}/comm`)).toThrow();
    expect((await oci(["delete", "all"])).code).toBe(0);
    setArgs(["sleep", "60"]);
    expect((await ociDetached(["create", "-b", bundle, "forced"])).code).toBe(0);
    expect((await oci(["delete", "--force", "forced"])).code).toBe(0);
    expect((await oci(["list", "-q"])).stdout).toBe("");
  });

  it("run killed with SIGKILL leaves no process of the container and no state", async () => {
    setArgs(["sh", "-c", "echo up; exec sleep 60"]);
    const u = user();
    const child = spawn(
      "runuser",
      ["-u", u.name, "--", process.execPath, runtimeBin(), "--root", root, "run", "-b", bundle, "killed"],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    // The node process of nook oci run (runuser's child), killed outright.
    const nookPid = descendants(child.pid!).find((p) =>
      readFileSync(`/proc/${p}/cmdline`, "utf8").includes("nook-runtime"),
    );
    expect(nookPid).toBeDefined();
    const inside = descendants(nookPid!);
    process.kill(nookPid!, "SIGKILL");
    for (let i = 0; i < 50 && inside.some((p) => existsSync(`/proc/${p}`)); i++) await sleep(100);
    expect(inside.filter((p) => existsSync(`/proc/${p}`))).toEqual([]);
    expect(existsSync(join(root, "killed"))).toBe(false);
  });

  it("refuses what it cannot do by field, and bad ids and verbs in one line, with runc's exit status", async () => {
    const file = join(bundle, "config.json");
    const saved = readFileSync(file, "utf8");
    try {
      const config = JSON.parse(saved) as { linux: { namespaces: { type: string; path?: string }[] } };
      config.linux.namespaces.push({ type: "time" });
      writeFileSync(file, JSON.stringify(config));
      const r = await oci(["run", "-b", bundle, "bad"]);
      expect(r).toMatchObject({
        code: 1,
        stderr:
          "config.json: linux.namespaces[5].type is not supported: a time namespace: nook's helper does not create or join one\n",
      });
    } finally {
      writeFileSync(file, saved);
    }
    expect(await oci(["start", "nosuch"])).toMatchObject({
      code: 1,
      stderr: 'container "nosuch" does not exist\n',
    });
    expect(await oci(["create", "-b", bundle, "../x"])).toMatchObject({
      code: 1,
      stderr: "invalid container id format: ../x\n",
    });
    expect(await oci(["frobnicate"])).toMatchObject({
      code: 1,
      stderr: 'unknown command "frobnicate" for nook oci\n',
    });
    expect((await oci(["list", "-q"])).stdout).toBe("");
  });

  it("runs createRuntime, prestart, poststart and poststop hooks with the state on stdin; a failing prestart stops create", async () => {
    const file = join(bundle, "config.json");
    const saved = readFileSync(file, "utf8");
    const out = join(dir, "hooks");
    execFileSync("install", ["-d", "-o", String(user().uid), out]);
    try {
      const config = JSON.parse(saved) as Record<string, unknown> & { process: Record<string, unknown> };
      config.process.args = ["echo", "ran"];
      config.process.terminal = false;
      config.hooks = Object.fromEntries(
        ["createRuntime", "prestart", "poststart", "poststop"].map((k) => [
          k,
          [{ path: "/bin/sh", args: ["sh", "-c", `cat > ${out}/${k}.json`] }],
        ]),
      );
      writeFileSync(file, JSON.stringify(config));
      expect(await oci(["run", "-b", bundle, "hooked"])).toMatchObject({ code: 0, stdout: "ran\n" });
      for (const k of ["createRuntime", "prestart", "poststart", "poststop"])
        expect(JSON.parse(readFileSync(join(out, `${k}.json`), "utf8"))).toMatchObject({
          id: "hooked",
          bundle,
        });
      expect(JSON.parse(readFileSync(join(out, "prestart.json"), "utf8"))).toMatchObject({
        status: "created",
      });
      config.hooks = { prestart: [{ path: "/bin/false" }] };
      writeFileSync(file, JSON.stringify(config));
      const failed = await ociDetached(["create", "-b", bundle, "hookfail"]);
      expect(failed).toMatchObject({ code: 1, stderr: "prestart hook /bin/false failed: exit status 1\n" });
      expect((await oci(["list", "-q"])).stdout).toBe("");
    } finally {
      writeFileSync(file, saved);
    }
  });

  it("honours a runc-made config.json: its capability bounding set, no_new_privs and a seccomp profile", async () => {
    const u = user();
    const rb = join(dir, "runc-bundle");
    execFileSync("sh", [
      "-c",
      `mkdir -p ${rb} && cp -a ${bundle}/rootfs ${rb}/ && chown -R ${u.uid}:${u.gid} ${rb}`,
    ]);
    expect((await runAs(u, ["runc", "spec", "--rootless", "-b", rb])).code).toBe(0);
    const file = join(rb, "config.json");
    const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, Record<string, unknown>>;
    config.process!.terminal = false;
    config.process!.args = [
      "sh",
      "-c",
      "grep -E 'CapBnd|NoNewPrivs|Seccomp:' /proc/self/status; mkdir /tmp/x; echo mkdir=$?",
    ];
    config.root!.readonly = false;
    config.linux!.seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
    };
    writeFileSync(file, JSON.stringify(config));
    const r = await oci(["run", "-b", rb, "runcmade"]);
    // runc spec's set: AUDIT_WRITE (29), KILL (5), NET_BIND_SERVICE (10).
    expect(r.stdout).toBe("CapBnd:\t0000000020000420\nNoNewPrivs:\t1\nSeccomp:\t2\nmkdir=1\n");
    expect(r.stderr).toBe("mkdir: can't create directory '/tmp/x': Operation not permitted\n");
  });

  it("runs Podman's containers: podman --runtime nook-runtime run, exec, stop and rm, rootless", async () => {
    const u = user();
    const pdir = join(dir, "podman");
    execFileSync("install", [
      "-d",
      "-m",
      "0700",
      "-o",
      String(u.uid),
      "-g",
      String(u.gid),
      pdir,
      join(pdir, "xdg"),
    ]);
    const podman = (args: string[]): Promise<RunResult> =>
      runAs(
        u,
        [
          "podman",
          "--root",
          join(pdir, "root"),
          "--runroot",
          join(pdir, "runroot"),
          "--cgroup-manager",
          "cgroupfs",
          "--events-backend",
          "file",
          "--runtime",
          runtimeBin(),
          ...args,
        ],
        { env: { XDG_RUNTIME_DIR: join(pdir, "xdg") } },
      );
    try {
      // The fixtures sit in root's cache, which the user cannot read.
      const archive = join(pdir, "busybox.tar");
      execFileSync("install", ["-m", "0644", join(inject("fixtures"), "busybox-docker.tar"), archive]);
      expect(await podman(["load", "-q", "-i", archive])).toMatchObject({ code: 0 });
      const run = await podman(["run", "--rm", "busybox", "sh", "-c", "echo via-nook; exit 4"]);
      expect(run).toMatchObject({ code: 4, stdout: "via-nook\n" });
      const id = (await podman(["run", "-d", "--name", "pn", "busybox", "sleep", "60"])).stdout.trim();
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      expect((await podman(["exec", "pn", "cat", "/proc/1/comm"])).stdout).toBe("sleep\n");
      expect((await podman(["stop", "-t", "1", "pn"])).code).toBe(0);
      expect((await podman(["rm", "pn"])).code).toBe(0);
      expect((await podman(["ps", "-aq"])).stdout).toBe("");
    } finally {
      await podman(["rm", "-af"]);
      const pause = join(pdir, "xdg", "libpod", "tmp", "pause.pid");
      try {
        process.kill(Number(readFileSync(pause, "utf8")));
      } catch {
        // no pause process
      }
    }
  });
});
